"""Saved conversations on real SQLite: ownership, order, bounds, turns kept, and the migration."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

import rag.ops.conversations as conversations
from rag.errors import DatabaseError
from rag.ops.conversations import (
    MAX_CONVERSATION_MESSAGES,
    MAX_MESSAGE_CHARS,
    UNTITLED,
    WITHHELD_QUESTION,
    append_to_conversation,
    clean_conversation_title,
    conversation_title,
    create_conversation,
    delete_conversation,
    get_conversation,
    list_conversations,
    load_conversation,
    rename_conversation,
    save_conversation_turn,
    stored_turn,
)
from rag.ops.database import apply_migrations, open_db
from rag.ops.migrations import MIGRATIONS
from tests.ops.test_database import held_exclusive, read_only

ANA, BEN = "ana@example.org", "ben@example.org"
QUESTION = {"role": "user", "content": "How many days of annual leave do I get?"}
ANSWER = {
    "role": "assistant",
    "content": "Full-time staff get 25 days [1].",
    "run": {"run_id": "r1", "question": QUESTION["content"], "timings": {"total_ms": 812.0}},
    "citations": [{"number": 1, "source": "leave.md", "page": 1, "text": "25 days of leave."}],
    "warnings": [],
}


def test_a_conversation_round_trips_its_messages_in_order(db):
    cid = create_conversation(db, ANA, conversation_title(QUESTION["content"]))
    assert append_to_conversation(db, ANA, cid, [QUESTION, ANSWER])
    follow_up = {"role": "user", "content": "And part-time?"}
    error = {"role": "assistant", "content": "", "error": "The model is down.", "icon": "x"}
    assert append_to_conversation(db, ANA, cid, [follow_up, error])
    assert load_conversation(db, ANA, cid) == [QUESTION, ANSWER, follow_up, error]
    [row] = list_conversations(db, ANA)
    assert (row["id"], row["title"], row["messages"]) == (cid, QUESTION["content"], 4)
    assert get_conversation(db, ANA, cid)["messages"] == 4


def test_a_new_conversation_is_empty_not_missing(db):
    cid = create_conversation(db, ANA)
    assert load_conversation(db, ANA, cid) == []
    assert get_conversation(db, ANA, cid)["title"] == UNTITLED


def test_list_is_the_owners_most_recently_used_first(db):
    first = create_conversation(db, ANA, "first")
    second = create_conversation(db, ANA, "second")
    create_conversation(db, BEN, "ben's")
    assert [c["title"] for c in list_conversations(db, ANA)] == ["second", "first"]
    append_to_conversation(db, ANA, first, [QUESTION])  # using it brings it to the top
    assert [c["id"] for c in list_conversations(db, ANA)] == [first, second]
    assert [c["title"] for c in list_conversations(db, ANA, limit=1)] == ["first"]


@pytest.mark.parametrize("owner", [BEN, "", "ANA@example.org", "ana@example.org "])
def test_another_owner_cannot_see_or_touch_a_conversation(db, owner):
    cid = create_conversation(db, ANA, "salary review")
    append_to_conversation(db, ANA, cid, [QUESTION, ANSWER])

    assert list_conversations(db, owner) == []
    assert get_conversation(db, owner, cid) is None
    assert load_conversation(db, owner, cid) is None
    assert not append_to_conversation(db, owner, cid, [QUESTION])
    assert not rename_conversation(db, owner, cid, "mine now")
    assert not delete_conversation(db, owner, cid)

    # ...and the answers are those of an id that does not exist: nothing tells them apart
    assert load_conversation(db, owner, "no-such-id") is None
    assert not append_to_conversation(db, owner, "no-such-id", [QUESTION])
    assert not rename_conversation(db, owner, "no-such-id", "x")
    assert not delete_conversation(db, owner, "no-such-id")
    # the owner's conversation is untouched
    assert load_conversation(db, ANA, cid) == [QUESTION, ANSWER]
    assert get_conversation(db, ANA, cid)["title"] == "salary review"


def test_rename_cleans_the_title_and_refuses_an_empty_one(db):
    cid = create_conversation(db, ANA, "leave")
    assert rename_conversation(db, ANA, cid, "  Leave\nand\ttravel \x1b[31m ")
    assert get_conversation(db, ANA, cid)["title"] == "Leave and travel [31m"
    assert rename_conversation(db, ANA, cid, "x" * 500)
    assert len(get_conversation(db, ANA, cid)["title"]) == conversations.MAX_TITLE_CHARS
    with pytest.raises(ValueError, match="empty"):
        rename_conversation(db, ANA, cid, " \n\t ")
    assert get_conversation(db, ANA, cid)["title"].startswith("xxx")


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("How many days of annual leave do I get?", "How many days of annual leave do I get?"),
        ("  What\n is   the VPN?  ", "What is the VPN?"),
        ("word " * 40, ("word " * 11).strip() + "…"),
        ("a" * 100, "a" * 59 + "…"),
        ("", UNTITLED),
        ("\n\t", UNTITLED),
    ],
)
def test_the_title_is_the_first_question_on_one_line(question, title):
    assert conversation_title(question) == title
    assert len(conversation_title(question)) <= conversations.DEFAULT_TITLE_CHARS


def test_clean_title_bounds_the_work_on_a_huge_title():
    assert clean_conversation_title(" " * 10_000_000 + "late") == ""  # only the start is read


def test_delete_removes_the_messages_too(db):
    cid = create_conversation(db, ANA, "leave")
    other = create_conversation(db, ANA, "travel")
    append_to_conversation(db, ANA, cid, [QUESTION, ANSWER])
    append_to_conversation(db, ANA, other, [QUESTION])
    assert delete_conversation(db, ANA, cid)
    assert load_conversation(db, ANA, cid) is None
    assert [c["id"] for c in list_conversations(db, ANA)] == [other]
    stored = db.execute("SELECT DISTINCT conversation_id FROM conversation_messages").fetchall()
    assert stored == [(other,)]
    assert not delete_conversation(db, ANA, cid)  # twice: already gone


def test_append_past_the_cap_stores_nothing(db):
    cid = create_conversation(db, ANA, "long")
    turn = [QUESTION, ANSWER]
    for _ in range(MAX_CONVERSATION_MESSAGES // 2 - 1):
        assert append_to_conversation(db, ANA, cid, turn)
    assert append_to_conversation(db, ANA, cid, [QUESTION])  # one short of the cap
    before = get_conversation(db, ANA, cid)
    assert not append_to_conversation(db, ANA, cid, turn)  # a whole turn no longer fits
    after = get_conversation(db, ANA, cid)
    assert after == before and after["messages"] == MAX_CONVERSATION_MESSAGES - 1
    assert append_to_conversation(db, ANA, cid, [ANSWER])  # the last place is still there
    assert not append_to_conversation(db, ANA, cid, [QUESTION])
    assert len(load_conversation(db, ANA, cid)) == MAX_CONVERSATION_MESSAGES


def test_an_owner_keeps_their_most_recently_used_conversations(db, monkeypatch):
    monkeypatch.setattr(conversations, "MAX_CONVERSATIONS", 3)
    ids = [create_conversation(db, ANA, f"c{i}") for i in range(3)]
    append_to_conversation(db, ANA, ids[0], [QUESTION])  # c0 is now the most recently used
    bens = create_conversation(db, BEN, "ben's")
    newest = create_conversation(db, ANA, "c3")
    assert [c["title"] for c in list_conversations(db, ANA)] == ["c3", "c0", "c2"]
    assert load_conversation(db, ANA, ids[1]) is None  # the least recently used went
    assert load_conversation(db, ANA, ids[0]) == [QUESTION]
    assert get_conversation(db, BEN, bens) is not None  # another owner's count is their own
    assert newest in {c["id"] for c in list_conversations(db, ANA)}


def test_the_first_turn_starts_a_conversation_titled_by_its_question(db):
    cid, replaced = save_conversation_turn(db, ANA, None, QUESTION, ANSWER)
    assert not replaced and load_conversation(db, ANA, cid) == [QUESTION, ANSWER]
    assert get_conversation(db, ANA, cid)["title"] == QUESTION["content"]
    assert save_conversation_turn(db, ANA, cid, QUESTION, ANSWER) == (cid, False)
    assert get_conversation(db, ANA, cid)["messages"] == 4


@pytest.mark.parametrize("why", ["full", "deleted", "someone else's"])
def test_a_turn_that_cannot_go_in_its_conversation_starts_a_new_one(db, monkeypatch, why):
    monkeypatch.setattr(conversations, "MAX_CONVERSATION_MESSAGES", 2)
    cid, _ = save_conversation_turn(db, ANA, None, QUESTION, ANSWER)
    if why == "deleted":
        delete_conversation(db, ANA, cid)
    owner = BEN if why == "someone else's" else ANA
    new, replaced = save_conversation_turn(db, owner, cid, QUESTION, ANSWER)
    assert replaced and new != cid
    assert load_conversation(db, owner, new) == [QUESTION, ANSWER]
    if why != "deleted":
        assert load_conversation(db, ANA, cid) == [QUESTION, ANSWER]  # left as it was


def test_a_huge_message_is_kept_shortened(db):
    cid = create_conversation(db, ANA, "paste")
    pasted = {"role": "user", "content": "Summarise this: " + "lorem ipsum " * 50_000}
    cited = {**ANSWER, "citations": [{**ANSWER["citations"][0], "text": "x" * 50_000}] * 10}
    assert append_to_conversation(db, ANA, cid, [pasted, cited])
    question, answer = load_conversation(db, ANA, cid)
    assert question["shortened"] and question["content"] == pasted["content"][:4000]
    assert answer["shortened"] and len(answer["citations"]) == 10
    assert answer["run"] == ANSWER["run"]  # short values are kept whole
    sizes = db.execute("SELECT length(message) FROM conversation_messages").fetchall()
    assert all(size <= MAX_MESSAGE_CHARS for (size,) in sizes)


def test_a_message_too_large_even_shortened_becomes_a_note(db):
    cid = create_conversation(db, ANA, "wide")
    wide = {
        "role": "assistant",
        "content": "",
        "data": {f"k{i}": ["y" * 4000] * 30 for i in range(30)},
    }
    assert append_to_conversation(db, ANA, cid, [wide])
    [kept] = load_conversation(db, ANA, cid)
    assert kept == {
        "role": "assistant",
        "content": "",
        "error": "This message was too large to keep.",
    }


def test_a_turn_keeps_placeholders_not_the_askers_personal_data():
    asked = {"role": "user", "content": "Can Jo Bloggs (jo@example.org) take leave?"}
    redacted = "Can <PERSON_1> (<EMAIL_1>) take leave?"
    mapping = {"<PERSON_1>": "Jo Bloggs", "<EMAIL_1>": "jo@example.org"}
    run = {**ANSWER["run"], "question": redacted}
    answer = {**ANSWER, "mapping": mapping, "run": run, "asked": asked["content"]}
    question, said = stored_turn(asked, answer)
    assert question == {"role": "user", "content": redacted}
    assert "mapping" not in said and said["asked"] == redacted
    assert "Jo Bloggs" not in json.dumps([question, said])
    assert "mapping" in answer and asked["content"].startswith("Can Jo")  # the session's copy


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        (
            {"error": "Personal data (a card number) stopped this question.", "blocked": "pii"},
            False,
        ),
        ({"error": "This looks like an instruction to the model.", "blocked": "injection"}, True),
        ({"error": "The model is down."}, True),
    ],
)
def test_a_question_the_privacy_check_stopped_is_not_kept(error, kept):
    asked = {"role": "user", "content": "My card is 4111 1111 1111 1111, is that ok?"}
    question, said = stored_turn(asked, {"role": "assistant", "content": "", **error})
    assert question["content"] == (asked["content"] if kept else WITHHELD_QUESTION)
    assert said["error"] == error["error"]


def test_an_answer_without_personal_data_is_kept_as_it_is():
    assert stored_turn(QUESTION, ANSWER) == [QUESTION, ANSWER]


def test_a_read_only_database_raises_database_error_naming_the_file(tmp_path):
    path = tmp_path / "app.db"
    open_db(path).close()
    with read_only(path), pytest.raises(DatabaseError, match="writable") as caught:
        db = open_db(path, busy_timeout=0.2)
        try:
            create_conversation(db, ANA, "leave")
        finally:
            db.close()
    assert str(path) in str(caught.value)


def test_a_busy_database_raises_database_error_and_keeps_the_conversation(tmp_path):
    path = tmp_path / "app.db"
    db = open_db(path, busy_timeout=0.2)
    cid = create_conversation(db, ANA, "leave")
    with held_exclusive(path), pytest.raises(DatabaseError, match="is busy"):
        append_to_conversation(db, ANA, cid, [QUESTION, ANSWER])
    assert load_conversation(db, ANA, cid) == []  # all or nothing
    assert append_to_conversation(db, ANA, cid, [QUESTION, ANSWER])
    db.close()


def test_the_migration_applies_to_a_database_made_by_the_previous_ones(tmp_path):
    path = tmp_path / "app.db"
    old = Database(path)
    apply_migrations(old, stop_before="m006_conversations")
    assert "conversations" not in old.table_names()
    old["eval_runs"].insert({"created_at": "2026-01-05T10:00:00+00:00", "summary": "{}"})
    old.close()

    db = open_db(path)
    assert not MIGRATIONS.pending(db)
    assert {"conversations", "conversation_messages"} <= set(db.table_names())
    assert db.execute("SELECT count(*) FROM eval_runs").fetchone()[0] == 1  # kept
    cid = create_conversation(db, ANA, "after the upgrade")
    assert append_to_conversation(db, ANA, cid, [QUESTION])
    assert load_conversation(db, ANA, cid) == [QUESTION]
    db.close()
