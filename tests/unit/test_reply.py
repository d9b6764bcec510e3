"""Reply extraction: the member's new words only, checked against real clients' mail."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.inbound.htmltext import html_to_text
from bot.inbound.parse import parse_message
from bot.inbound.reply import extract_reply
from tests.conftest import FIXTURES

CORPUS = FIXTURES / "corpus"
EXPECTED: dict[str, str] = json.loads((CORPUS / "replies-expected.json").read_text())

# Known differences, each kept as a strict xfail so that a fix shows up.
KNOWN = {
    "crisp-email-reply-parser/test/fixtures/email_9.txt": "a '====' line before the header stays",
    "willdurand-EmailReplyParser/tests/Fixtures/email_2.txt": "a mailing-list footer stays",
    "talon/tests/fixtures/reply-separated-by-hr.html": "a bare first-name signature stays",
    "discourse-email_reply_trimmer/test/emails/embedded_email_4.txt": "a '|'-quoted original stays",
    "discourse-email_reply_trimmer/test/emails/embedded_email_11.txt": (
        "a date and name with no address nor verb is not read as a quote header"
    ),
    "discourse-email_reply_trimmer/test/emails/embedded_email_12.txt": (
        "an 'On ... wrote:' header broken by blank lines stays"
    ),
}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


CASES = [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN[c])) if c in KNOWN else c
    for c in sorted(EXPECTED)
]


@pytest.mark.parametrize("case", CASES)
def test_no_quoted_original_leaks_into_the_new_text(case: str) -> None:
    # Upstream suites' expected replies: what we extract must be the start of it (we may cut a
    # signature they keep, never add quoted text), and empty only when theirs is.
    text = (CORPUS / case).read_text(errors="replace")
    if case.endswith(".html"):
        text = html_to_text(text)
    got, want = norm(extract_reply(text)), norm(EXPECTED[case])
    assert got or not want, "nothing extracted"
    assert want.startswith(got), got


TRIMMER = CORPUS / "discourse-email_reply_trimmer/test/emails"


@pytest.mark.parametrize(
    ("name", "own_words"),
    [
        ("quote_only.txt", ""),
        ("quote_and_text.txt", "And this is some text."),
        ("embedded_email_16.txt", "Yep, me too, although I bet due to RubyConf/OOPSLA"),
        ("forwarded_message.txt", ""),
    ],
)
def test_only_the_writers_own_words_where_discourse_keeps_a_quote(
    name: str, own_words: str
) -> None:
    # Discourse keeps a quote left above the words, and a forward's text; a ballot answer must
    # not be read in someone else's words, so cgbot keeps only what the writer added.
    got = norm(extract_reply((TRIMMER / name).read_text()))
    assert got.startswith(own_words) and (got == "") == (own_words == ""), got
    assert ">" not in got and "From:" not in got


@pytest.mark.parametrize(
    "header",
    [
        "Jan Kowalski <jan@example.org> schrieb:",
        "Max Mustermann <max@example.de> schrieb am Fr., 28.\nApr. 2017 um 11:53 Uhr:",
        '30 серп. 2016 р. 20:45 "Arpit" <arpit@example.org> пише:',
        "Ana Lima <ana@example.org> wrote:",
        "*-------- Original Message --------*",
    ],
)
def test_a_quote_header_without_the_usual_lead_ends_the_answer(header: str) -> None:
    # Found with Discourse's trimmer fixtures: these headers stayed in the answer, and an
    # unquoted original under them (the ballot's own option list) was read as the member's.
    text = f"I object.\n\n{header}\n\nPlease answer AGREE, OBJECT or ABSTAIN.\n"
    assert extract_reply(text) == "I object."


@pytest.mark.parametrize(
    "text",
    [
        "Agree.\nPlease copy Jan <jan@example.org>.\nHe wrote to me about it:\nfine by him.",
        # Found by a review of the headers above: each of these lost the writer's own words.
        "I object to item 3; please ask Jan <jan@example.org>.\nHe wrote the draft and knows "
        "why:\n- the budget line is counted twice.",
        "On behalf of Jan <jan@example.org>, I abstain.\nHe wrote to me this morning:\nhe is "
        "travelling.",
        "Am Montag hat Jan <jan@example.org> zugestimmt.\nEr schrieb mir dazu:\nPasst.",
        "Thanks.\nAna <ana@example.org> wrote that she agrees, but I object:\n- the budget is "
        "wrong.",
        "I agree.\n\nAs Jan Kowalski <jan@example.org> wrote on the list, two points remain:\n"
        "1. budget",
    ],
)
def test_a_sentence_naming_someone_with_their_address_is_not_a_quote_header(text: str) -> None:
    assert norm(extract_reply(text)) == norm(text)


def gitlab(name: str) -> bytes:
    raw = (CORPUS / "gitlab/spec/fixtures/emails" / name).read_bytes().lstrip()
    # Some fixtures lack a Message-ID, which real mail always has (and which we require).
    return raw if b"message-id:" in raw.lower() else b"Message-ID: <fixture@test>\r\n" + raw


GITLAB_EXACT = [
    "plaintext_only.eml",
    "on_wrote.eml",
    "paragraphs.eml",
    "ios_default.eml",
    "outlook_html.eml",
    "html_empty_link.eml",
]


@pytest.mark.parametrize("name", GITLAB_EXACT)
def test_whole_messages_from_real_clients(name: str) -> None:
    # Full .eml from Windows Mail, Gmail, iOS Mail and Outlook 2010 (HTML only): parsed by
    # mail-parser, then trimmed, they give exactly the reply GitLab's suite expects.
    expected = json.loads((CORPUS / "gitlab/expected.json").read_text())
    message = parse_message(gitlab(name))
    assert norm(extract_reply(message.text)) == norm(
        expected[f"spec/fixtures/emails/{name}"]["expected_reply"]
    )


def test_html_blockquote_is_treated_as_the_quoted_original() -> None:
    # A deliberate difference from GitLab (which keeps blockquotes as Markdown quotes): mail
    # clients put the original in a blockquote, and the original lists every ballot option.
    text = extract_reply(parse_message(gitlab("html_table_and_blockquote.eml")).text)
    assert text.startswith("Company") and "X-rays" not in text


def test_multipart_without_its_boundaries_is_flagged() -> None:
    # dutch.eml declares multipart/alternative but has no boundary lines: the pipeline's
    # integrity stage holds such mail rather than guess at its words.
    problems = parse_message(gitlab("dutch.eml")).problems
    assert [p.code for p in problems] == ["broken-mime"]


OWN_CASES = [
    # (why, text, expected)
    (
        "pt Gmail header",
        "Concordo.\n\nEm seg., 3 de nov. de 2026 às 10:00, CG <cg@x.org> "
        "escreveu:\n> AGREE\n> OBJECT",
        "Concordo.",
    ),
    (
        "es header unquoted",
        "Estoy de acuerdo.\n\nEl lun, 3 nov 2026 a las 10:00, CG (<cg@x.org>) escribió:\n> AGREE",
        "Estoy de acuerdo.",
    ),
    (
        "fr header split",
        "Je m'abstiens.\n\nLe lun. 3 nov. 2026 à 10:00, CG <cg@x.org> a\nécrit :\n> AGREE",
        "Je m'abstiens.",
    ),
    (
        "-1 is an answer, not a signature",
        "-1\n\nOn Mon, 3 Nov 2026, CG <cg@x.org> wrote:\n> x",
        "-1",
    ),
    (
        "inline answer under the quote",
        "On Mon, 3 Nov 2026, CG <cg@x.org> wrote:\n> Do you "
        "agree?\nObject - para 3 is wrong.\n> thanks",
        "Object - para 3 is wrong.",
    ),
    (
        "Outlook pt block",
        "Concordo.\n\n________________________________\nDe: CG <cg@x.org>\n"
        "Enviado: segunda-feira\nPara: Ana\nAssunto: Ballot\nAGREE / OBJECT",
        "Concordo.",
    ),
    ("mobile footer and sign-off", "Agree.\n\nAbraço,\nBruno\n\nEnviado do meu iPhone", "Agree."),
    (
        "a sentence is not a footer",
        "Here is another email\n\nSent from my desk, is much easier then my mobile phone.",
        "Here is another email\n\nSent from my desk, is much easier then my mobile phone.",
    ),
    ("French sign-off", "D'accord.\n\nCordialement,\nChloé Martin\nExpert Panel", "D'accord."),
]


@pytest.mark.parametrize(("why", "text", "expected"), OWN_CASES, ids=[c[0] for c in OWN_CASES])
def test_languages_and_clients_the_library_misses(why: str, text: str, expected: str) -> None:
    assert extract_reply(text) == expected


def test_html_only_reply_drops_quote_containers() -> None:
    html = (
        '<div dir="ltr">Agree<br></div><div class="gmail_quote"><div>On Mon wrote:</div>'
        "<blockquote><p>AGREE OBJECT ABSTAIN</blockquote></div>"
    )
    assert html_to_text(html) == "Agree"
    outlook = '<p>Object: para 3</p><div id="divRplyFwdMsg"><b>From:</b> x</div><div>AGREE</div>'
    assert html_to_text(outlook) == "Object: para 3"


def test_fixtures_folder_has_licences() -> None:
    # Copied corpus files carry their source and licence notices, permissive sets only.
    licences = (CORPUS / "LICENSES.md").read_text()
    for folder in [p for p in CORPUS.iterdir() if p.is_dir()]:
        source = (folder / "SOURCE.md").read_text()
        line = next(ln for ln in source.splitlines() if ln.startswith("- License"))
        assert "GPL" not in line, folder.name
        assert f"| {folder.name} |" in licences, folder.name


def test_the_library_patterns_built_once_read_every_corpus_reply_as_built_per_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 12: mail-parser-reply's patterns are built once and handed to each message. They
    # must be in force with the version we pin (an upgrade that drops the fields it caches
    # them in would quietly cost the time again), and read every reply as the library would
    # with patterns of its own.
    from bot.inbound import reply

    built: list[dict[str, object]] = []
    library = reply.EmailMessage

    def recording(**kwargs: Any) -> Any:
        built.append(kwargs)
        return library(**kwargs)

    monkeypatch.setattr(reply, "EmailMessage", recording)
    extract_reply("Agree, with thanks.\n\nOn Mon, 1 Dec 2026, Bot wrote:\n> Do you agree?\n")
    shared = reply.library_patterns()
    assert sorted(shared) == ["_disclaimers_regex", "_header_regex", "_signature_regex"]
    assert [{k: built[0].get(k) for k in shared}] == [shared]
    monkeypatch.undo()
    texts = [
        html_to_text(t) if case.endswith(".html") else t
        for case in sorted(EXPECTED)
        for t in [(CORPUS / case).read_text(errors="replace")]
    ]
    once = [extract_reply(t) for t in texts]
    monkeypatch.setattr(reply, "library_patterns", lambda: {})
    assert [extract_reply(t) for t in texts] == once


def test_a_postscript_keeps_the_whole_reply() -> None:
    # A P.S. after the closing may take back what the first line says (a fourth review found
    # "PS: actually 3 is not possible" dropped with the signature, and "2 and 3" counted).
    text = "2 and 3\nThanks\nAna\nPS: actually 3 is not possible, sorry"
    assert extract_reply(text) == text
    assert extract_reply("2 and 3\nThanks\nAna") == "2 and 3"


@pytest.mark.parametrize("text", ["Done\n-except annex B", "1\n-but only the first hour"])
def test_a_dash_line_in_lower_case_is_no_signature(text: str) -> None:
    assert extract_reply(text) == text


@pytest.mark.parametrize(
    "text",
    [
        # Found by a fifth review: mail-parser-reply cut at a line that only starts like a
        # closing, at a writer's "Warning:", after a phone footer, or a "P.D." was not a P.S.
        "I support it.\nThanks, but I object to Annex B.",
        "Done\nThanks, but I still need to send annex 2.",
        "Done.\nWarning: the annex is still missing, will send it by email.",
        "Done\nSent from my iPhone\nExcept annex 2",
        "Hecho.\nSaludos,\nAna\nPD: falta el anexo 2",
        "Done.\nThanks,\nAna\nAnnex 2 to follow.",
    ],
)
def test_words_that_take_the_answer_back_are_never_cut(text: str) -> None:
    assert extract_reply(text).splitlines()[-1] == text.splitlines()[-1]


def test_a_disclaimer_and_a_quote_header_are_still_cut() -> None:
    disclaimer = "Agree.\nCAUTION: This email originated from outside of the organization."
    assert extract_reply(disclaimer) == "Agree."
    footer = "Agree.\n\nSent from my iPhone\n\nThe ballot asks: AGREE, OBJECT or ABSTAIN?"
    assert extract_reply(footer) == "Agree."
