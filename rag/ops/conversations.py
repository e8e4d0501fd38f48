"""Conversations kept per user: create, list, load, append, rename and delete, owner-checked.

Every statement that reads or changes a conversation names its owner (``WHERE owner = ?``), so
another user's conversation id behaves exactly like one that does not exist: nothing says
whether it does. Ids are random, never counters.

What is stored is bounded:

* a conversation holds at most ``MAX_CONVERSATION_MESSAGES`` messages: an append that would go
  past it stores nothing and returns False (the page then continues in a new conversation);
* a message is kept as JSON of at most ``MAX_MESSAGE_CHARS`` characters: a longer one is kept
  with its long texts cut and marked ``"shortened": True``;
* an owner keeps their ``MAX_CONVERSATIONS`` most recently used conversations: creating one
  more deletes the least recently used.

What a turn keeps is decided by ``stored_turn``: the asker's personal data stays in their
session only, as in the run log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from rag.ops.database import fetch, utc_now, write_transaction
from rag.ops.runlog import dumps

MAX_CONVERSATION_MESSAGES = 200  # 100 questions and their answers
MAX_CONVERSATIONS = 200  # per owner
MAX_MESSAGE_CHARS = 100_000  # of a message's JSON; an answer with ten citations is ~20,000
MAX_TITLE_CHARS = 80
DEFAULT_TITLE_CHARS = 60
UNTITLED = "New conversation"
_SHORTENED_TEXT = 4_000  # a shortened message keeps this much of each text...
_SHORTENED_ITEMS = 30  # ...and of each list
# A question the privacy check stopped held personal data: it is not kept.
WITHHELD_QUESTION = "(Question not kept: the privacy check stopped it.)"


# --- titles ----------------------------------------------------------------------------------


def clean_conversation_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """Return ``title`` on one line without control characters, cut to ``limit`` characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in (title or "")[: limit * 4])
    line = " ".join(printable.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    word_end = cut.rfind(" ")
    return (cut[:word_end] if word_end > limit // 2 else cut).rstrip() + "…"


def conversation_title(question: str) -> str:
    """The title a conversation gets from its first question."""
    return clean_conversation_title(question, DEFAULT_TITLE_CHARS) or UNTITLED


# --- what a turn keeps ---------------------------------------------------------------------


def stored_turn(question: Mapping[str, Any], answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the question and answer messages of one turn as they are stored.

    An answer's ``mapping`` (placeholder -> what the asker typed) is dropped, and a question
    whose personal data was replaced is stored as the model saw it, with the placeholders: the
    run log keeps it that way too. A question the privacy check stopped is not kept.
    """
    asked, said = dict(question), {k: v for k, v in answer.items() if k != "mapping"}
    if answer.get("mapping") and (redacted := (answer.get("run") or {}).get("question")):
        asked["content"] = redacted
        said["asked"] = redacted
    elif answer.get("blocked") == "pii":
        asked["content"] = WITHHELD_QUESTION
    return [asked, said]


def _bounded(message: Mapping[str, Any]) -> str:
    """The message as JSON of at most ``MAX_MESSAGE_CHARS`` characters."""
    text = dumps(dict(message))
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    text = dumps({**_shorten(dict(message)), "shortened": True})
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return dumps(
        {
            "role": message.get("role", "assistant"),
            "content": "",
            "error": "This message was too large to keep.",
        }
    )


def _shorten(value: Any) -> Any:
    if isinstance(value, str):
        return value[:_SHORTENED_TEXT]
    if isinstance(value, list | tuple):
        return [_shorten(v) for v in value[:_SHORTENED_ITEMS]]
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in list(value.items())[:_SHORTENED_ITEMS]}
    return value


# --- the owner's conversations ---------------------------------------------------------------


def create_conversation(db: Database, owner: str, title: str = "") -> str:
    """Start a conversation for ``owner``; return its id.

    Past ``MAX_CONVERSATIONS``, the owner's least recently used conversations are deleted.
    """
    conversation_id = secrets.token_urlsafe(12)
    now = utc_now()
    with write_transaction(db):
        db.conn.execute(
            "INSERT INTO conversations (id, owner, title, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [conversation_id, owner, clean_conversation_title(title) or UNTITLED, now, now],
        )
        _prune(db, owner)
    return conversation_id


def _prune(db: Database, owner: str) -> None:
    stale = (
        "SELECT id FROM conversations WHERE owner = ? "
        "ORDER BY updated_at DESC, rowid DESC LIMIT -1 OFFSET ?"
    )
    params = [owner, MAX_CONVERSATIONS]
    db.conn.execute(f"DELETE FROM conversation_messages WHERE conversation_id IN ({stale})", params)
    db.conn.execute(f"DELETE FROM conversations WHERE id IN ({stale})", params)


def list_conversations(db: Database, owner: str, limit: int = 50) -> list[dict[str, Any]]:
    """Return ``owner``'s conversations, most recently used first, each with its message count."""
    return fetch(
        db,
        "SELECT c.id, c.title, c.created_at, c.updated_at, "
        "(SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id) AS messages "
        "FROM conversations c WHERE c.owner = ? ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?",
        [owner, limit],
    )


def get_conversation(db: Database, owner: str, conversation_id: str) -> dict[str, Any] | None:
    """Return ``owner``'s conversation (id, title, times, message count), or None."""
    rows = fetch(
        db,
        "SELECT c.id, c.title, c.created_at, c.updated_at, "
        "(SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id) AS messages "
        "FROM conversations c WHERE c.id = ? AND c.owner = ?",
        [conversation_id, owner],
    )
    return rows[0] if rows else None


def load_conversation(db: Database, owner: str, conversation_id: str) -> list[dict] | None:
    """Return the messages of ``owner``'s conversation in order, or None when it is not theirs
    (or does not exist)."""
    rows = fetch(
        db,
        "SELECT c.id, m.message FROM conversations c LEFT JOIN conversation_messages m "
        "ON m.conversation_id = c.id WHERE c.id = ? AND c.owner = ? ORDER BY m.position",
        [conversation_id, owner],
    )
    if not rows:
        return None
    return [json.loads(r["message"]) for r in rows if r["message"] is not None]


def append_to_conversation(
    db: Database, owner: str, conversation_id: str, messages: Iterable[Mapping[str, Any]]
) -> bool:
    """Add ``messages`` at the end of ``owner``'s conversation, all or none.

    Returns False, storing nothing, when the conversation is not theirs (or is gone) or the
    messages would take it past ``MAX_CONVERSATION_MESSAGES``.
    """
    texts = [_bounded(m) for m in messages]
    with write_transaction(db):
        size = db.conn.execute(
            "SELECT count(m.position), coalesce(max(m.position), -1) FROM conversations c "
            "LEFT JOIN conversation_messages m ON m.conversation_id = c.id "
            "WHERE c.id = ? AND c.owner = ? GROUP BY c.id",
            [conversation_id, owner],
        ).fetchone()
        if size is None or size[0] + len(texts) > MAX_CONVERSATION_MESSAGES:
            return False
        db.conn.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ? AND owner = ?",
            [utc_now(), conversation_id, owner],
        )
        db.conn.executemany(
            "INSERT INTO conversation_messages (conversation_id, position, message) "
            "VALUES (?, ?, ?)",
            [(conversation_id, size[1] + 1 + i, text) for i, text in enumerate(texts)],
        )
    return True


def save_conversation_turn(
    db: Database,
    owner: str,
    conversation_id: str | None,
    question: Mapping[str, Any],
    answer: Mapping[str, Any],
) -> tuple[str, bool]:
    """Save a turn (as ``stored_turn`` keeps it) in ``owner``'s conversation, or start one.

    Returns the id of the conversation it went to, and whether that is a new one replacing
    ``conversation_id`` because it was full or is gone (not theirs, deleted meanwhile).
    """
    turn = stored_turn(question, answer)
    if conversation_id and append_to_conversation(db, owner, conversation_id, turn):
        return conversation_id, False
    new = create_conversation(db, owner, conversation_title(turn[0]["content"]))
    append_to_conversation(db, owner, new, turn)
    return new, conversation_id is not None


def rename_conversation(db: Database, owner: str, conversation_id: str, title: str) -> bool:
    """Give ``owner``'s conversation a new title; False when it is not theirs (or is gone).

    Raises:
        ValueError: the title is empty once cleaned (check with ``clean_conversation_title`` first).
    """
    title = clean_conversation_title(title)
    if not title:
        raise ValueError("a conversation title cannot be empty")
    with write_transaction(db):
        return bool(
            db.conn.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                [title, conversation_id, owner],
            ).rowcount
        )


def delete_conversation(db: Database, owner: str, conversation_id: str) -> bool:
    """Delete ``owner``'s conversation and its messages; False when it is not theirs."""
    with write_transaction(db):
        owned = db.conn.execute(
            "DELETE FROM conversations WHERE id = ? AND owner = ?", [conversation_id, owner]
        ).rowcount
        if owned:
            db.conn.execute(
                "DELETE FROM conversation_messages WHERE conversation_id = ?", [conversation_id]
            )
    return bool(owned)
