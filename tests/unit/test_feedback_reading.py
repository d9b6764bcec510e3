"""'No comments' counts as an answer to a feedback round (ToR 2.2.e) only when nothing follows."""

from __future__ import annotations

import pytest

from bot.inbound.reply import extract_reply
from bot.workflows.feedback import no_comments

NOTHING = [
    "No comments.",
    "No comments from me, thanks!",
    "No further comments on this draft.",
    "Nothing to add.",
    "No comments.\nThanks,\nMaria",
    "Pas de commentaires.",
    "Rien à signaler, merci.",
    "Sin comentarios.",
    "Sem comentários.",
    "I have no comments.",
    "Aucun commentaire.",
    "Nenhum comentário.",
]

COMMENTS = [
    # Each of these was labelled "no comments" in the compilation and in the member's
    # acknowledgement, though it holds a remark (the text itself was always kept).
    "No comments except para 4 should say 2027.",
    "No comments.\n\nOne typo on page 3: 'programme' twice.",
    "No comments on the substance, but the title should change.",
    "Pas de commentaire sauf sur le titre.",
    "Sin comentarios, salvo el anexo 2.",
    "Sem comentários, apenas uma correção no ponto 2.",
    "Thanks, no comments.",  # not opening with it: read as comments, as before
    # A review found these counted as "no comments": comments to come, a position, a remark.
    "No comments yet, I will send them by Friday.",
    "Pas de commentaires pour l'instant, je reviens vers vous.",
    "Sin comentarios por ahora, enviaré los míos el lunes.",
    "No comments, I object.",
    "No comments on section 1. Section 2 needs work.",
    "No comments.\nPlease fix the date.",
    "No comments; see attached.",
]


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_to_add_counts_as_no_comments(text: str) -> None:
    assert no_comments(extract_reply(text))  # as the round reads it: signature removed


@pytest.mark.parametrize("text", COMMENTS)
def test_a_remark_after_no_comments_is_a_comment(text: str) -> None:
    assert not no_comments(extract_reply(text))


def test_the_members_name_may_sign_it() -> None:
    assert no_comments("No comments.\nMaria", "Maria Silva")
    assert not no_comments("No comments.\nSection Two", "Maria Silva")


def test_no_comments_in_another_language_is_kept_as_a_comment() -> None:
    # Read in the four languages the bot writes; "Keine Kommentare" stays in the compilation
    # as the member wrote it (as the README says), never a wrong "no comments".
    assert not no_comments("Keine Kommentare.")
    assert not no_comments("Nessun commento.")
