"""Words: the one stopword list and stemmer, and the two tokenizers built on them.

Retrieval (BM25 terms, :func:`tokenize`) and verification (content-word coverage,
:func:`content_words`) read text through the same stopwords and the same stemmer, so a word
counts the same when a passage is found and when an answer sentence is checked against it.
"""

from __future__ import annotations

import re


def wordlist(text: str) -> list[str]:
    """Split a word list written as prose (reads better than hundreds of quoted strings)."""
    return text.split()


# --- words ----------------------------------------------------------------------------------

STOPWORDS = frozenset(
    wordlist(
        """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did
    didn't do does doesn't doing don't down during each either else ever every few for
    from further get gets got had hadn't has hasn't have haven't having he her here hers
    herself him himself his how however i if in into is isn't it it's its itself just
    let let's may me might more most must mustn't my myself neither no nor not now of
    off on once one only or other ought our ours ourselves out over own per same shall
    shan't she should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they this those through thus to too under until
    up upon us very via was wasn't we were weren't what what's when where which while
    who whom whose why will with within without won't would wouldn't yes yet you your
    yours yourself yourselves etc e.g i.e"""
    )
)
# Words about the conversation rather than the documents' subject matter.
META_WORDS = frozenset(
    wordlist(
        """answer answers answered ask asked asking assist based certain clarify context detail
    details document documents excerpt excerpts feel find found free glad happy hello
    help helps helpful hi hope information info know let like mention mentioned mentions
    note passage passages provide provided question questions regarding said say says
    see sorry source sources sure text thank thanks unable unfortunately welcome wish"""
    )
)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


_STEM_RULES = (  # suffix, replacement, shortest stem left
    ("ies", "y", 3),
    ("sses", "ss", 3),
    ("ing", "", 3),
    ("ed", "", 3),
    ("es", "", 4),
    ("s", "", 3),
    ("al", "", 4),
)


def stem(word: str) -> str:
    """Crude suffix stripping: "approves", "approved" and "approval" meet at "approv", "days"
    at "day", "policies" at "policy"."""
    w = word.lower().replace("’", "'").removesuffix("'s")
    for suffix, repl, keep in _STEM_RULES:
        if w.endswith(suffix) and len(w) - len(suffix) >= keep:
            return w[: -len(suffix)] + repl
    return w


def content_words(text: str, *, meta: bool = True) -> set[str]:
    """Return stemmed content words (no stopwords; no conversation words unless ``meta``)."""
    words = set()
    for w in _WORD_RE.findall(text):
        low = w.lower().replace("’", "'")
        if low in STOPWORDS or len(low) < 2 or (not meta and low in META_WORDS):
            continue
        words.add(stem(low))
    return words


_TERM_RE = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case content-word stems of ``text`` for lexical matching (numbers kept)."""
    return [stem(w) for w in _TERM_RE.findall(text.lower()) if w not in STOPWORDS]
