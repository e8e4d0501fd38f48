"""Versioned prompt files: ``NAME.VERSION.md`` with ``## system`` and ``## user`` sections.

A prompt file is reviewed like code; a new wording is a new version file, never an edit of a
released one. The active version is the ``prompt_version`` setting and is recorded with every
answer, trace and feedback row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError
from rag.text.markup import defuse_delimiters, strip_markup
from rag.types import Passage

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


def format_context(passages: Sequence[Passage]) -> str:
    """Quote passages for the prompt, each between ``<passage>`` tags, numbered for citing.

    The tags mark the passages as quoted data (the system turn says they carry no
    instructions); a look-alike tag inside a passage is made inert so it cannot close the
    quote. The document's context (title, subject, period) says which company, team or period
    a passage speaks of when its text only says "the Company". File names and pages stay out:
    small models copy them into the answer, and citations map [n] back to file and page anyway.
    """
    return "\n\n".join(
        f'<passage id="{i}"{_context_note(p)}>\n[{i}] '
        f"{defuse_delimiters(strip_markup(' '.join(p.text.split())))}\n</passage>"
        for i, p in enumerate(passages, 1)
    )


def _context_note(passage: Passage) -> str:
    context = defuse_delimiters(strip_markup(" ".join(passage.context.split())))
    return f' from="{context.replace(chr(34), chr(39))}"' if context else ""
