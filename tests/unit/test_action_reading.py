"""An owner reports an agreed action done, and the Secretariat refuses a new date (ToR 6.2.b)."""

from __future__ import annotations

import pytest

from bot.inbound.reply import extract_reply
from bot.workflows.action import refuses, reports_done

DONE = [
    "Done",
    "Done, see attached.",
    "Done: the final note is attached.",
    "Feito. A nota segue em anexo.",
    "Done ✅",
    "Completed.",
    "Fait.",
    "C'est fait",
    "Hecho",
    "Listo, enviado.",
    "Feito.",
    # Went to review before.
    "All done.",
    "This is done.",
    "I've done it.",
    "I’ve done it.",
    "Yes, done.",
    "Ya está hecho.",
    "Já está feito.",
]

NOT_DONE = [
    # Each of these was recorded as done, and the action closed.
    "Done? Not yet, I need until Friday.",
    "Done with part 1; part 2 needs another week.",
    "Done, but the annex follows next week.",
    "Pronto lo enviaré.",  # Spanish "pronto" is "soon"
    # A review found these read as done; anything more than thanks or "see attached" is read
    # by the Secretariat, since a wrong "done" closes the action.
    "Done by Friday.",
    "Done tomorrow.",
    "Done, annex to follow.",
    "Done, however the annex is missing.",
    "Done (mostly)",
    "Done 50%",
    "I have done nothing",
    "Done. Part 2 still pending.",
    "Done\nexcept the annex",
    "Done by Ana, not me",
    "Done, subject to approval",
    "Fait demain",
    "Terminé sous réserve de validation",
    "Listo para revisión",
    "Hecho, falta el anexo",
    "Concluído amanhã",
    "Feito, aguardando aprovação",
    "Está pronto para revisão",
    "Done on Monday",
    "Listo el viernes",
    "I have completed most of it",
    # A second review found these read as done; now only thanks or "see attached" may follow.
    "Done, the paper is on the shared drive.",
    "Done: sent to the Board this morning.",
    "Complete nonsense - I never agreed to this action.",
    "Done, didn't have time for the annex.",
    "Hecho, creo.",
    "Fait, sans l'annexe.",
    "Done later.",
    "Done, in progress",
    "Done, TBC.",
    "Hecho lo que pude.",
    "Done\n-except annex B",  # a fourth review: the dash line was taken for a signature
    # And these never were.
    "Not done yet.",
    "I need until 2026-12-20.",
]


@pytest.mark.parametrize("text", DONE)
def test_an_action_reported_done(text: str) -> None:
    assert reports_done(text)


@pytest.mark.parametrize("text", NOT_DONE)
def test_a_question_or_a_part_done_is_not_done(text: str) -> None:
    assert not reports_done(text)


@pytest.mark.parametrize(
    "text",
    [
        "REFUSE",
        "Refused.",
        "REFUSE\nThe new date clashes with the Board meeting.",
        "No",
        "Non.",
        "No, keep the original date.",
        "I refuse.",
        "Rechazado",
        "Rejected",
        "Refusée",
        # Reasons that speak of approving or mistakes, and a disclaimer under the closing, are
        # no taking back (a review found the first version sent these to review).
        "Not accepted.",
        "Rejected; not approved.",
        "Refused. Extension not granted.",
        "Recusado, não aceito.",
        "Refused: the deadline was approved by the plenary and cannot move.",
        "Refused - we cannot approve a third extension.",
        "Refused: it would be a mistake to delay the annex.",
        "Rechazado: el plazo fue aprobado por el pleno.",
        "Refused.\n\nBest regards,\nExecutive Secretariat\n\nThis e-mail is confidential. If you "
        "have received this message in error, please notify the sender and disregard it.",
    ],
)
def test_the_secretariat_refuses_a_new_date(text: str) -> None:
    assert refuses(text)


@pytest.mark.parametrize(
    "text",
    [
        "Noted, thanks.",
        "No problem, fine.",
        "Non-urgent, accept.",
        "November is fine",
        # A bare "no" with more after it (a review found these refused the new date).
        "No\nobjection",
        "No,\nlet's accept it.",
        "No.\nThat's fine, go ahead.",
        # ... and these, found by a second review.
        "Declined? No, approved.",
        "Not accepted yet, I'll check with the Chair.",
        "Recusal: I have a conflict of interest on this action.",
        "Declined the calendar invite by mistake. Fine with the new date.",
        "No?",
        "No :)",
        # A refusal taken back, or granted, in the same reply.
        "Refused - by mistake, please ignore, approved",
        "REFUSE\n\nSorry, sent in error. The new date is approved.",
        "Refusée par erreur, merci d'ignorer.",
        "Rechazado por error: la nueva fecha queda aprobada.",
        "Recusado por engano, a nova data está aprovada.",
        "Refused - my bad, extension agreed.",
        "Refused. Correction: agreed.",
        "Refused. Scratch that - go ahead with the new date.",
        "Refused - sorry, wrong action.",
        "Refusé — veuillez ne pas tenir compte de ce message.",
        "Rechazado. Disculpen, fue una equivocación.",
        "Recusado — desconsidere esta mensagem.",
        "Refused.\nThanks,\nES\nP.S. Sent by mistake, please ignore - the new date is approved.",
    ],
)
def test_a_reply_that_only_starts_like_no_refuses_nothing(text: str) -> None:
    # "Noted, thanks." to an extension notice refused the extension: it began with "no".
    assert not refuses(text)


def test_a_signature_may_follow_but_no_other_line() -> None:
    # The owner's name (or a closing) under "done" is a signature; any other line is read by
    # the Secretariat, even one that looks like a name ("Except Annex").
    assert reports_done("Feito. A nota segue em anexo.\nBruno", "Bruno Costa")
    assert reports_done("Done\nBest regards\nA. Lima", "Ana Lima")
    assert not reports_done("Done\nExcept Annex", "Ana Lima")
    assert refuses("No\nAna", "Ana Lima")
    assert not refuses("No\nObjection", "Ana Lima")
    assert not reports_done("Done\nI", "Ana Lima")  # "I" is a word, not an initial


def test_a_line_after_the_closing_that_is_no_signature_is_kept() -> None:
    # "Pending: the annex" after "Thanks, / Ana" was cut with the signature block, and the
    # action closed (a fourth review); a name and a title are still a signature.
    assert not reports_done(extract_reply("Done\nThanks,\nAna\nPending: the annex"), "Ana Lima")
    signed = "Done\n\nKind regards,\nAna Lima\nExecutive Secretary, ICVCM\n+44 20 7946 0000"
    assert reports_done(extract_reply(signed), "Ana Lima")
