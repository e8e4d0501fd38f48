"""Text: words (stopwords, stemmer, tokenizers), sentences, facts, numbers and Markdown safety.

Pure Python and model-free; retrieval and verification both read text through it."""

from rag.text.markup import (
    defuse_delimiters,
    escape_line,
    escape_markdown,
    inert_markdown,
    strip_markup,
)

__all__ = [
    "defuse_delimiters",
    "escape_line",
    "escape_markdown",
    "inert_markdown",
    "strip_markup",
]
