"""The package layout is the architecture: rooms in layers, imports only go down, no cycles.

Every ``rag`` module's imports (including ones inside functions and ``TYPE_CHECKING`` blocks)
are read with ``ast``. A module may import its own room or a room of a lower layer; two rooms
of one layer do not know each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAG = ROOT / "rag"

# Lowest first. A top-level module is a room of its own.
LAYERS: list[set[str]] = [
    {"config", "errors", "types"},
    {"access", "text"},
    {"models", "ops"},
    {"guardrails"},
    {"ingest"},
    {"index"},
    {"answer"},
    {"evaluation"},
    {"cli"},
    {"__init__", "__main__"},
]
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """The ``rag`` modules ``path`` imports (a ``from rag.x import y`` of a submodule counts
    as importing ``rag.x.y``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "rag"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "rag":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if _is_module(sub) else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(RAG.rglob("*.py"))}


def test_every_room_has_a_layer():
    rooms = {_room(m) for m in _graph()}
    assert rooms <= set(RANK), f"rooms without a layer: {sorted(rooms - set(RANK))}"


def test_imports_only_go_down():
    upward = []
    for module, imported in _graph().items():
        room = _room(module)
        for target in imported:
            other = _room(target)
            if other == room or target == "rag" and room in LAYERS[-1]:
                continue
            if target == "rag" or RANK[other] >= RANK[room]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that do not go down:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target in graph and not state.get(target):
                visit(target, [*stack, target])
        state[module] = 2

    for module in graph:
        if not state.get(module):
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize(
    ("module", "target", "allowed"),
    [
        ("rag.index.retrieve", "rag.answer.verify", False),
        ("rag.answer.chain", "rag.index.retrieve", True),
        ("rag.models.backends", "rag.ops.database", False),
        ("rag.text.words", "rag.errors", True),
        ("rag.cli", "rag.evaluation", True),
    ],
)
def test_the_rule_itself(module, target, allowed):
    """The check would catch an upward or sideways import (and allows a downward one)."""
    room, other = _room(module), _room(target)
    assert (other == room or RANK[other] < RANK[room]) is allowed
