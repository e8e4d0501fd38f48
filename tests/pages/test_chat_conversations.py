"""AppTest of the Ask page's saved conversations: a reload resumes them, the sidebar lists the
user's own only, another user's id opens nothing, rename and delete work.

Real store, real embedded model, real SQLite under tmp_path. A reload is a fresh AppTest that
keeps the URL's query parameters and the signed-in user.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from rag.ops.conversations import (
    create_conversation,
    get_conversation,
    list_conversations,
    load_conversation,
)
from rag.ops.database import open_db
from rag.text.markup import escape_line, escape_markdown
from tests.pages.apptest import PAGES
from tests.pages.test_chat import QUESTION, live, load_samples

ANA = {"email": "ana@example.org", "is_logged_in": True}
BEN = {"email": "ben@example.org", "is_logged_in": True}
ANSWER = {
    "role": "assistant",
    "content": "Full-time employees get 25 days of annual leave [1].",
    "refused": False,
    "extractive": False,
    "warnings": [],
    "run": {"run_id": "run-1", "question": QUESTION, "mode": "generate", "verification": [],
            "timings": {"total_ms": 900.0}},
    "citations": [{"number": 1, "source": "leave-policy.md", "page": 1, "section": "",
                   "text": "Full-time employees get 25 days of annual leave.", "quote": ""}],
}  # fmt: skip


def open_page(user: dict | None = None, params: dict | None = None) -> AppTest:
    """Open the Ask page as ``user`` (None: no sign-in) at a URL with ``params``."""
    at = AppTest.from_file(str(PAGES / "chat.py"), default_timeout=180)
    if user is not None:
        at.user = dict(user)
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, at.exception
    return at


def reload(at: AppTest) -> AppTest:
    """The same browser tab reloaded: same URL, same signed-in user, a new session."""
    return open_page(at.user if at.user.get("is_logged_in") else None, dict(at.query_params))


def saved(data_dir: Path, owner: str, conversation_id: str | None = None):
    db = open_db(data_dir / "app.db")
    try:
        if conversation_id:
            return load_conversation(db, owner, conversation_id)
        return list_conversations(db, owner)
    finally:
        db.close()


def seed(data_dir: Path, owner: str, title: str) -> str:
    """A saved conversation of ``owner`` with one question and its answer."""
    from rag.ops.conversations import append_to_conversation

    db = open_db(data_dir / "app.db")
    try:
        cid = create_conversation(db, owner, title)
        append_to_conversation(db, owner, cid, [{"role": "user", "content": QUESTION}, ANSWER])
        return cid
    finally:
        db.close()


def titles(data_dir: Path) -> dict[str, str]:
    return {c["id"]: c["title"] for c in saved(data_dir, ANA["email"])}


def listed(at: AppTest) -> list:
    """The sidebar's conversation buttons (the open one is the primary button)."""
    return [b for b in at.sidebar.button if b.key and b.key.startswith("conversation_")]


def shown(at: AppTest) -> list[tuple[str, str]]:
    return [(m.name, (m.markdown[0].value if m.markdown else "")) for m in at.chat_message]


def test_a_question_is_saved_and_a_reload_resumes_it(store_page_data_dir):
    at = open_page()
    load_samples(at)
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception, at.exception
    cid = at.query_params["c"]
    [row] = saved(store_page_data_dir, "local")  # one local user without sign-in
    assert (row["id"], row["title"], row["messages"]) == (cid, QUESTION, 2)
    [question, answer] = saved(store_page_data_dir, "local", cid)
    assert question == {"role": "user", "content": QUESTION}
    assert answer["run"]["question"] == QUESTION and answer["citations"]

    again = reload(at)
    assert shown(again)[0] == ("user", escape_markdown(QUESTION))
    [_, bot] = again.chat_message
    assert "25 days" in " ".join(m.value for m in bot.markdown)
    assert any(e.label.startswith("[1] ") for e in bot.expander)  # citations come back too
    [entry] = listed(again)
    assert entry.label == escape_line(QUESTION, limit=40) and entry.proto.type == "primary"

    # a follow-up in the resumed conversation is added to it
    again.chat_input[0].set_value("And how many for part-time employees?").run()
    assert not again.exception, again.exception
    assert again.query_params["c"] == cid
    assert saved(store_page_data_dir, "local")[0]["messages"] == 4

    # a new tab starts a new conversation; the saved one is a click away
    fresh = open_page()
    assert not fresh.chat_message and "c" not in fresh.query_params
    [entry] = listed(fresh)
    assert entry.proto.type == "secondary"
    entry.click().run()
    assert not fresh.exception, fresh.exception
    assert [name for name, _ in shown(fresh)] == ["user", "assistant"] * 2
    assert fresh.query_params["c"] == cid and listed(fresh)[0].proto.type == "primary"
    [new] = [b for b in fresh.sidebar.button if b.label == "New conversation"]
    new.click().run()
    assert not fresh.chat_message and "c" not in fresh.query_params


def test_another_user_sees_nothing_of_a_conversation(store_page_data_dir):
    cid = seed(store_page_data_dir, ANA["email"], "Ana's salary question")
    ana = open_page(ANA, {"c": cid})
    assert shown(ana)[0] == ("user", escape_markdown(QUESTION))
    assert [b.label for b in listed(ana)] == [escape_line("Ana's salary question")]

    ben = open_page(BEN, {"c": cid})  # Ana's link, opened by Ben
    assert not ben.chat_message and not listed(ben)
    [note] = [i.value for i in ben.info if "conversation" in i.value]
    assert note == escape_markdown("That conversation is not available; this is a new one.")
    assert "c" not in ben.query_params
    page_text = " ".join(str(e.value) for e in [*ben.markdown, *ben.caption, *ben.info])
    assert "salary" not in page_text and "annual leave" not in page_text

    # the same note for an id that never existed: nothing tells the two apart
    nobody = open_page(BEN, {"c": "no-such-conversation"})
    assert [i.value for i in nobody.info] == [i.value for i in ben.info]

    # without sign-in (the local user) Ana's conversation is not listed either
    assert not listed(open_page())
    assert [c["id"] for c in saved(store_page_data_dir, ANA["email"])] == [cid]


def test_rename_with_markup_is_shown_as_text_and_delete_asks_first(store_page_data_dir):
    cid = seed(store_page_data_dir, ANA["email"], "Leave")
    other = seed(store_page_data_dir, ANA["email"], "Travel")
    at = open_page(ANA, {"c": cid})
    hostile = "  Leave **now** [x](http://evil.example) :red[!]\n"
    at.sidebar.text_input(key=f"title_{cid}").input(hostile)
    [rename] = [b for b in at.sidebar.button if b.label == "Rename"]
    rename.click().run()
    assert not at.exception, at.exception
    title = "Leave **now** [x](http://evil.example) :red[!]"
    assert titles(store_page_data_dir)[cid] == title
    [entry] = [b for b in listed(at) if b.proto.type == "primary"]
    assert entry.label == escape_line(title, limit=40)
    assert "**" not in live(entry.label) and ":red[" not in live(entry.label)

    # an empty title is refused, the old one kept
    at.sidebar.text_input(key=f"title_{cid}").input("   ")
    [rename] = [b for b in at.sidebar.button if b.label == "Rename"]
    rename.click().run()
    assert "needs a title" in at.sidebar.error[0].value
    assert titles(store_page_data_dir) == {cid: title, other: "Travel"}

    # delete asks first; cancel keeps it
    [delete] = [b for b in at.sidebar.button if b.label == "Delete conversation"]
    delete.click().run()
    assert "for good" in at.sidebar.warning[0].value
    [cancel] = [b for b in at.sidebar.button if b.label == "Cancel"]
    cancel.click().run()
    assert len(saved(store_page_data_dir, ANA["email"])) == 2
    [delete] = [b for b in at.sidebar.button if b.label == "Delete conversation"]
    delete.click().run()
    [confirm] = [b for b in at.sidebar.button if b.label == "Delete"]
    confirm.click().run()
    assert not at.exception, at.exception
    assert [c["id"] for c in saved(store_page_data_dir, ANA["email"])] == [other]
    assert not at.chat_message and "c" not in at.query_params
    assert "deleted" in at.success[0].value
    assert [b.label for b in listed(at)] == ["Travel"]
    assert not reload(at).chat_message


def test_ben_cannot_rename_or_delete_anas_conversation_through_the_page(store_page_data_dir):
    cid = seed(store_page_data_dir, ANA["email"], "Leave")
    ben = open_page(BEN, {"c": cid})
    assert not [b for b in ben.sidebar.button if b.label in ("Rename", "Delete conversation")]
    db = open_db(store_page_data_dir / "app.db")
    try:
        assert get_conversation(db, ANA["email"], cid)["title"] == "Leave"
    finally:
        db.close()
