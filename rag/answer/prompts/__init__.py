"""Versioned prompt files: ``NAME.VERSION.md`` with ``## system`` and ``## user`` sections.

A prompt file is reviewed like code; a new wording is a new version file, never an edit of a
released one. The active version is the ``prompt_version`` setting and is recorded with every
answer, trace and feedback row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError

PROMPT_DIR = Path(__file__).parent
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """One versioned prompt: its name, version and message templates."""

    name: str
    version: str
    system: str
    user: str

    @property
    def ref(self) -> str:
        """``name.version``, the identifier recorded with answers."""
        return f"{self.name}.{self.version}"


def available_versions(name: str) -> list[str]:
    """Versions of prompt ``name`` that exist as files, sorted."""
    return sorted(p.name.split(".")[1] for p in PROMPT_DIR.glob(f"{name}.*.md"))


@lru_cache(maxsize=32)
def load_prompt(name: str, version: str) -> Prompt:
    """Load ``rag/answer/prompts/NAME.VERSION.md``."""
    path = PROMPT_DIR / f"{name}.{version}.md"
    if not path.is_file():
        raise ConfigError(
            f"No prompt file {path.name}. Available versions of '{name}': "
            f"{', '.join(available_versions(name)) or 'none'} (setting GROUNDWORK_PROMPT_VERSION)."
        )
    text = path.read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise ConfigError(f"Prompt file {path.name} has no '## user' section.")
    return Prompt(name, version, sections.get("system", ""), sections["user"])
