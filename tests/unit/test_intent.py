"""Reading a position: clear answers in seven languages are counted, unclear ones never guessed."""

from __future__ import annotations

import pytest

from bot.inbound.intent import read_position
from bot.rules import Rules, load_rules, resolve_rules_path


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(resolve_rules_path("ciwp-coordination-group"))


CLEAR = [
    ("Agree", "agree"),
    ("AGREE.\n\nThanks for the paper.", "agree"),
    ("I agree with the proposal.", "agree"),
    ("Hi all,\n\nI agree with the proposal.", "agree"),
    ("Hi all, I agree", "agree"),
    ("Dear all,\nThank you for the paper.\nI agree.", "agree"),
    ("Dear Ms. Okafor and colleagues,\n\nI agree.", "agree"),
    ("+1", "agree"),
    ("No objection", "agree"),
    ("No objection from me.", "agree"),
    ("No concerns.", "agree"),
    ("Pas d'objection", "agree"),
    ("D’accord", "agree"),
    ("Estoy de acuerdo", "agree"),
    ("Sin objeciones.", "agree"),
    ("Hola a todos:\n\nsi, de acuerdo.", "agree"),
    ("Concordo.", "agree"),
    ("Sim", "agree"),
    ("Object - para 3 overlaps the existing programme.", "object"),
    ("No - the scope is too wide.", "object"),
    ("No, not this time.", "object"),
    ("I do not agree", "object"),
    ("I don't agree: the budget is missing.", "object"),
    ("-1", "object"),
    ("Je ne suis pas d'accord, voir para 3.", "object"),
    ("No estoy de acuerdo", "object"),
    ("Não concordo com o parágrafo 3", "object"),
    ("nao concordo", "object"),
    ("Discordo.", "object"),
    ("Abstain", "abstain"),
    ("I'll stand aside on this one.", "abstain"),
    ("I stand aside on this one; I was not part of the working group.", "abstain"),
    ("Je m'abstiens.", "abstain"),
    ("Me abstengo", "abstain"),
    ("Abstenho-me.", "abstain"),
    ("Agree. We must guard against scope creep.", "agree"),
    ("Agree.\n\nWe should not block the other topics over this one.", "agree"),
    ("Object.\n\nI support the goal, but the budget is missing.", "object"),
]


@pytest.mark.parametrize(("text", "position"), CLEAR)
def test_clear_answers(rules: Rules, text: str, position: str) -> None:
    # The plain answers members write, greeting and all, in the four first languages.
    assert read_position(text, rules).position == position


UNCLEAR = [
    "agree in principle but object to para 3",
    "Agree, but only if the budget is approved.",
    "I don't really agree",
    "Agree. But I object to para 3.",
    "Object.\nI agree with the goal but para 3 is wrong",
    "What is this about?",
    "Je suis d'accord mais pas sur le point 2",
    "Concordo em princípio, mas o ponto 2 precisa de revisão",
    "",
    "Yes and no",
    "Agree with topics 1 and 2, not 3.",
    "I agree with Bruno's objection.",
    "Against my better judgement, agree.",
    "Approve with minor edits.",
    "D'accord sur le principe.",
    "I agre.",
    "Plutôt d'accord.",
    "Más o menos de acuerdo.",
    "Einverstanden. Ich habe aber Bedenken zu Punkt 3.",
    "Sono d'accordo con l'obiezione di Bruno.",
    "Je suis d'accord avec l'objection de Bruno.",
    "Geen bezwaar tegen punt 1, wel tegen punt 2.",
]


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear_answers_are_never_guessed(rules: Rules, text: str) -> None:
    # Mixed, hedged, partial or mistyped: the member is asked, the Secretariat sees it.
    reading = read_position(text, rules)
    assert reading.position is None and reading.why


LATER_PROSE = [
    "Not this time. We approved a similar scope last year.",
    "Thanks for sending this round.\n\nHaving looked at the annex I would object to topic 2.",
    "We discussed this at length in Bonn.\n\nAgree.",
    "Hello. I have read the paper.\n\nI object to topic 2.",
    "Dear all, not convinced.\n\nAgree with the rest.",
    "Nous en avons déjà parlé en réunion. Je suis d'accord.",
    "Lo revisé con mi equipo ayer. Estoy de acuerdo en general.",
    "Li o documento com atenção.\n\nConcordo.",
    "Ich habe die Unterlagen gestern gelesen. Einverstanden.",
    "Ne abbiamo parlato a Bonn. Sono d'accordo.",
    "We hebben dit in Bonn besproken. Akkoord.",
]


@pytest.mark.parametrize("text", LATER_PROSE)
def test_a_position_is_never_taken_from_the_prose_after_the_answer(rules: Rules, text: str) -> None:
    # Issue 11: the reader used to fall back to any position word anywhere, so "Not this time.
    # We approved a similar scope last year." counted as AGREE. Only the answer counts.
    reading = read_position(text, rules)
    assert reading.position is None
    assert "further down are not counted" in reading.why


CONDITIONAL = [
    "Yes, provided the budget line is removed.",
    "Yes,\nprovided the budget line is removed.",
    "Agree if topic 3 is dropped.",
    "I can agree as long as the timeline moves to Q3.",
    "I object unless the budget line is removed.",
    "Agree. Provided the annex is updated.",
    "Agree; provided the annex is updated.",
    "D'accord, à condition que la ligne budgétaire soit retirée.",
    "Oui si le point 3 est supprimé.",
    "Je ne bloque pas, sous réserve de voir la version finale.",
    "De acuerdo, siempre que se elimine la partida presupuestaria.",
    "Si se retira el punto 3, estoy de acuerdo.",
    "Concordo, desde que o orçamento seja revisto.",
    "Sim, se o ponto 3 for retirado.",
    "Einverstanden, sofern die Budgetzeile gestrichen wird.",
    "Ja, wenn Punkt 3 gestrichen wird.",
    "D'accordo, purché venga tolta la voce di bilancio.",
    "Sì, a condizione che il punto 3 venga rivisto.",
    "Akkoord, mits de begrotingsregel wordt geschrapt.",
    "Ja, op voorwaarde dat punt 3 eruit gaat.",
]


@pytest.mark.parametrize("text", CONDITIONAL)
def test_conditional_answers_go_to_review_in_every_language(rules: Rules, text: str) -> None:
    # "Yes, provided ..." is not a yes until the condition is met: a person decides.
    reading = read_position(text, rules)
    assert reading.position is None
    assert reading.why == "the answer is qualified (a hedge such as 'but')"


CONSENSUS = [
    ("Block. Topic 2 duplicates the Expert Panel's work.", "object"),
    ("I have to block this one - the IPLC Forum was not consulted.", "object"),
    ("Veto.", "object"),
    ("I can't live with topic 2 as drafted.", "object"),
    ("I do not block.", "agree"),
    ("Not blocking.", "agree"),
    ("no veto from me", "agree"),
    ("Consent.", "agree"),
    ("Happy to go along with it.", "agree"),
    ("I can live with it.", "agree"),
    ("Standing aside.", "abstain"),
    ("Je bloque : le point 2 n'a pas été discuté avec le Forum.", "object"),
    ("Je ne bloque pas.", "agree"),
    ("Pas de veto de ma part.", "agree"),
    ("Je me mets en retrait sur ce point.", "abstain"),
    ("Bloqueo la propuesta: el punto 2 no se consultó con el Foro.", "object"),
    ("No me opongo.", "agree"),
    ("Sin veto por mi parte.", "agree"),
    ("Me hago a un lado en esta votación.", "abstain"),
    ("Bloqueio: o Fórum não foi consultado.", "object"),
    ("Não bloqueio.", "agree"),
    ("Posso viver com isso.", "agree"),
    ("Veto. Punkt 2 wurde nicht mit dem Forum abgestimmt.", "object"),
    ("Ich blockiere nicht.", "agree"),
    ("Kein Veto von mir.", "agree"),
    ("Ich kann damit leben.", "agree"),
    ("Pongo il veto: il punto 2 non è stato discusso.", "object"),
    ("Non blocco.", "agree"),
    ("Nessun veto da parte mia.", "agree"),
    ("Mi faccio da parte su questo punto.", "abstain"),
    ("Ik blokkeer dit voorstel; punt 2 is niet besproken.", "object"),
    ("Ik blokkeer niet.", "agree"),
    ("Geen veto van mijn kant.", "agree"),
    ("Ik kan ermee leven.", "agree"),
]


@pytest.mark.parametrize(("text", "position"), CONSENSUS)
def test_the_words_of_consensus_practice_and_their_negations(
    rules: Rules, text: str, position: str
) -> None:
    # A block or veto is a blocking objection; not blocking lets the decision pass; standing
    # aside is not blocking. "block" and "veto" were unknown words before issue 11.
    assert read_position(text, rules).position == position


NEGATED_ASIDE = ["I will not stand aside on this.", "I won't stand aside."]


@pytest.mark.parametrize("text", NEGATED_ASIDE)
def test_refusing_to_stand_aside_is_not_read_as_either_side(rules: Rules, text: str) -> None:
    # "I won't stand aside" means neither ABSTAIN nor, for certain, a block: a person asks.
    assert read_position(text, rules).position is None


EVERYDAY = [
    ("Hallo zusammen,\n\neinverstanden.\n\nViele Grüße\nKlaus", "agree"),
    ("Liebe Kolleginnen und Kollegen,\n\nich stimme dem Vorschlag zu.", "agree"),
    ("Ja, passt so.", "agree"),
    ("Keine Einwände meinerseits.", "agree"),
    ("Dagegen spricht nichts.", "agree"),
    ("Ich habe nichts dagegen.", "agree"),
    ("Nein. Die Zeitplanung ist unrealistisch.", "object"),
    ("Ich lehne den Vorschlag ab, da das Budget fehlt.", "object"),
    ("Moin,\nnicht einverstanden – Punkt 2 überschneidet sich mit Bestehendem.", "object"),
    ("Kann ich so nicht mittragen.", "object"),
    ("Ich stimme gegen den Vorschlag.", "object"),
    ("Ich stimme dagegen.", "object"),
    ("Ich enthalte mich, da ich an der Sitzung nicht teilnehmen konnte.", "abstain"),
    ("Buongiorno a tutti,\n\nsono d'accordo.\n\nCordiali saluti,\nGiulia", "agree"),
    ("Ciao,\nper me va bene.\nGiulia", "agree"),
    ("Si", "agree"),
    ("Non sono d'accordo: il punto 2 si sovrappone al lavoro esistente.", "object"),
    ("Contrario. Il calendario non è realistico.", "object"),
    ("Mi astengo.", "abstain"),
    ("Hoi allemaal,\n\nAkkoord.\n\nGroeten,\nSanne", "agree"),
    ("Beste collega's,\n\nIk ga akkoord met het voorstel.", "agree"),
    ("Helemaal mee eens!", "agree"),
    ("Nee, punt 2 overlapt met het bestaande werk.", "object"),
    ("Niet akkoord, de planning is niet haalbaar.", "object"),
    ("Ik ben het er niet mee eens.", "object"),
    ("Ik onthoud me van stemming.", "abstain"),
]


@pytest.mark.parametrize(("text", "position"), EVERYDAY)
def test_german_italian_and_dutch_as_members_write_them(
    rules: Rules, text: str, position: str
) -> None:
    # Greetings, a short answer, a reason; German and Dutch put "nicht"/"niet" after the verb.
    assert read_position(text, rules).position == position


COMMITTEE_REGISTER = [
    # How governance members write a position: "nothing to object", "not in favour", and the
    # negations of the words of support, in English, French, Spanish and Portuguese. Before
    # these phrases they went to review as unclear ("no position word" or "negated"), and
    # "Nothing to object." and "Nothing against it." were counted as OBJECT.
    ("Not in favour.", "object"),
    ("I cannot endorse this draft.", "object"),
    ("Je ne soutiens pas.", "object"),
    ("Je ne peux pas soutenir cette proposition.", "object"),
    ("Je n'approuve pas.", "object"),
    ("No estoy a favor.", "object"),
    ("Estoy a favor.", "agree"),
    ("Não estou de acordo.", "object"),
    ("Não sou a favor.", "object"),
    ("Nothing to object.", "agree"),
    ("I have nothing to object to.", "agree"),
    ("Nothing against it.", "agree"),
    ("I have nothing against it.", "agree"),
    ("Rien à objecter.", "agree"),
    ("Rien contre.", "agree"),
    ("Nada que objetar.", "agree"),
    ("Nada en contra.", "agree"),
    ("Nada a opor.", "agree"),
    ("Nada contra.", "agree"),
    ("I don't agree, I object.", "object"),
    # A phrase never spans a comma: "No, me opongo" is not "no me opongo" (a review found these
    # read as the opposite).
    ("No, me opongo.", "object"),
    ("Não, sou contra.", "object"),
    ("No, estoy en contra.", "object"),
    ("No, veto.", "object"),
    ("No, objection to para 3.", "object"),
    # An aside beside the answer says nothing of it: its "no" negates nothing (these went to
    # review as partly negated).
    ("I agree, no further comments.", "agree"),
    ("Agree, no comments.", "agree"),
    ("Nothing further, I agree.", "agree"),
    ("D'accord, pas de commentaires.", "agree"),
    ("De acuerdo, sin comentarios.", "agree"),
    ("Concordo, sem comentários.", "agree"),
    ("No comments, I object.", "object"),
    ("No problem, I agree.", "agree"),
    ("Pas de problème, je suis d'accord.", "agree"),
    # Found by a third review. Mail clients wrap long lines: a phrase runs over a bare line
    # break (the first version of the comma rule read these as OBJECT).
    (
        "Having read the revised draft circulated last week, I have no\nobjection to its adoption.",
        "agree",
    ),
    ("I have no \nobjection.", "agree"),
    ("Que no\ntengo objeciones.", "agree"),
    ("Não\nme oponho.", "agree"),
    ("I agree, nothing else from me.", "agree"),
    ("De acuerdo, nada más.", "agree"),
    ("D'accord, rien à signaler.", "agree"),
    ("Agree. No further comments.", "agree"),
    ("I agree with the objectives of the paper.", "agree"),  # not an objecting word
    ("De acuerdo con el contrato.", "agree"),
    ("Can't agree more.", "agree"),
    ("Aprobado.", "agree"),
    ("Je ne vois pas d'objection.", "agree"),
    ("Não vejo objeção.", "agree"),
]


@pytest.mark.parametrize(("text", "position"), COMMITTEE_REGISTER)
def test_the_committees_register_for_support_and_its_negation(
    rules: Rules, text: str, position: str
) -> None:
    assert read_position(text, rules).position == position


NOT_COUNTED = [
    # A negated phrase said of an objection word is a double negative, close to AGREE; found by
    # a review of the phrases above, which had read them as OBJECT.
    "Je ne soutiens pas le veto.",
    "No estoy a favor del veto.",
    "Não estou de acordo com a objeção do João.",
    "Não concordo com a objeção.",
    "I cannot endorse the objection.",
    "Je ne peux pas soutenir ce blocage.",
    # Support for something else than the proposal ("in favour of postponing") is no answer.
    "I am in favour of postponing the decision.",
    "I endorse the concerns raised by Maria.",
    "Je soutiens les réserves de Maria.",
    "No puedo aceptar que se bloquee.",
    "Nothing at all against it.",
    # A negator anywhere before the answer word in the answer's sentence (a review found these
    # counted as AGREE); "Nothing further, I agree" goes to review with them.
    "I cannot, unfortunately, support this.",
    "I can't (yet) agree.",
    "Not really, I agree with the concerns.",
    "I don't think so, I agree with Ana.",
    "I do not think we should agree to this.",
    "Je ne suis pas, à ce stade, d'accord.",
    "No estoy, por el momento, a favor.",
    # Objecting in other words after AGREE, or a negation later in the answer (a review found
    # these counted as AGREE).
    "I agree with the objectors.",
    "I support the objecting members.",
    "Estoy de acuerdo con los que se oponen.",
    "Je suis d'accord avec ceux qui s'opposent.",
    "Yes, I agree it should be rejected.",
    "Yes, unacceptable.",
    "Yes, this is not acceptable.",
    # An aside is a clause of its own; a withdrawn objection or support; negations typed
    # without an apostrophe; a negated sentence after AGREE (a third review found these read
    # as OBJECT or AGREE).
    "No comments or objection from my side.",
    "No problem or objection.",
    "No comments against the proposal.",
    "Sin comentarios en contra.",
    "I withdraw my objection.",
    "Objection withdrawn.",
    "Je retire mon objection.",
    "Retiro mi objeción.",
    "I withdraw my support.",
    "I dont agree",
    "I cant support this",
    "Yo tampoco estoy de acuerdo.",
    "Agree. Not annex B.",
]


@pytest.mark.parametrize("text", NOT_COUNTED)
def test_a_double_negative_or_support_for_something_else_is_not_counted(
    rules: Rules, text: str
) -> None:
    assert read_position(text, rules).position is None


FALSE_FRIENDS = [
    # (why it must not be counted, text)
    ("'No' before a noun negates it", "No strong view."),
    ("'No' before a noun negates it", "No further comments."),
    ("Portuguese 'já' (already) is not German 'ja'", "Já respondi na reunião de ontem."),
    ("Dutch 'tegen' is also 'by' (a time)", "Tegen het einde van de week stuur ik mijn antwoord."),
    ("Italian 'prima' is 'before', not Dutch 'fine'", "Prima di decidere vorrei più informazioni."),
    ("Italian 'si' is also 'one' (impersonal)", "Si potrebbe rinviare la decisione."),
    ("'Ok' is every language's: the Italian 'ma' counts", "Ok, ma il punto 3 va rivisto."),
    ("'consent' inside 'informed consent' is no answer", "Free, prior and informed consent first."),
    ("a question is not an answer", "Can I object to topic 2 only?"),
    ("a question is not an answer", "¿Podemos hablarlo el jueves?"),
    ("a negator opening the next clause makes it partial", "Einverstanden, nicht aber Punkt 3."),
]


@pytest.mark.parametrize(("why", "text"), FALSE_FRIENDS, ids=[t for _, t in FALSE_FRIENDS])
def test_words_that_look_like_answers_but_are_not(rules: Rules, why: str, text: str) -> None:
    # Seven languages read at once make false friends; each one here was a wrong count.
    assert read_position(text, rules).position is None, why


def test_words_of_other_languages_do_not_hedge_an_answer(rules: Rules) -> None:
    # The Italian 'ma' (but) is the French 'ma' (my), and the 'se' of Italian and Portuguese
    # conditions is the Spanish reflexive: they hedge only an answer written in their language.
    assert read_position("Pour ma part, je suis d'accord.", rules).position == "agree"
    assert read_position("Aucune objection de ma part.", rules).position == "agree"
    assert read_position("Sono d'accordo, ma il punto 3 va rivisto.", rules).position is None
    assert read_position("Concordo, se o ponto 3 for retirado.", rules).position is None


@pytest.mark.parametrize(
    ("text", "position"),
    [
        # A word in brackets inside a clause is read with it: "No (further) objection." was
        # counted as OBJECT ("No." and "Objection."); read as "No further objection." it is not
        # counted (further than what?) and goes to the member and to review.
        ("No (further) objection.", None),
        ("No (further) objections from me.", None),
        ("No (other) objection, agree", None),
        ("I (really) agree.", "agree"),
        ("I (fully) support this.", "agree"),
        ("I agree (see attached) with the proposal.", "agree"),
        # Brackets that negate or set a condition stay apart, and so do brackets that close
        # the answer: an aside there is an aside.
        ("I do (not) object.", None),
        ("Agree (but not annex B) with the text.", None),
        ("Agree (no further comments).", "agree"),
        ("Agree (with the amended text).", "agree"),
        ("Object (see attached).", "object"),
        ("Yes (no objection).", "agree"),
        # Brackets around the answer's last word join it too (a review found these OBJECT).
        ("No (objection).", "agree"),
        ("I have no (objection).", "agree"),
        ("No (comments).", None),
        ("Agree (fully).", "agree"),
        # ... to the answer's end, not the reply's; and other punctuation still ends a clause.
        ("No (objection). Thanks for the work.", "agree"),
        ("I have no (objection). Thanks.", "agree"),
        ("Agree (fully), no further comments.", "agree"),
    ],
)
def test_a_word_in_brackets_inside_a_clause_is_read_with_it(
    rules: Rules, text: str, position: str | None
) -> None:
    assert read_position(text, rules).position == position


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("I (dis)agree.", None),
        ("I do(n't) agree with the list.", None),
        ("I do(n\u2019t) agree.", None),
        ("I can(\u2019t) support the list.", None),
        ("Estoy en (des)acuerdo.", None),
        ("I agree with the annex(es).", "agree"),
    ],
)
def test_a_word_written_with_and_without_its_negation_is_not_counted(
    rules: Rules, text: str, position: str | None
) -> None:
    assert read_position(text, rules).position == position


# The writer's colleagues (members and the Chair; the caller leaves the Secretariat out).
OTHERS = ("Ana Pérez", "Bruno Carvalho", "Chloé Martin", "Jan de Vries", "Sarah Grant",
          "João dos Santos", "Anne Petit")  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        # Agreeing with a colleague's view gives that colleague's position, which the words
        # do not say (Ana may have objected): the member is asked.
        "I agree with Ana.",
        "I support Ana's position.",
        "I agree with Bruno Carvalho's view.",
        "I agree with my colleague Ana.",
        "I agree with Ms Pérez.",
        "I agree with Dr. Carvalho.",
        "Je suis d'accord avec Chloé.",
        "Je suis d'accord avec Mme Martin.",
        "Estoy de acuerdo con Ana.",
        "Estoy de acuerdo con la Sra. Pérez.",
        "Concordo com a Ana.",
        "Concordo com o Sr. Carvalho.",
        "Ik ben het eens met Jan.",
        "Einverstanden mit Frau Pérez.",
        "Sono d'accordo con Bruno.",
        # Agreeing with concerns sides with an objection.
        "I agree with the concerns raised by Brazil.",
        "I support the concerns expressed by the Board.",
        "Estoy de acuerdo con las preocupaciones de Brasil.",
        "Concordo com as preocupações do Brasil.",
    ],
)
def test_agreeing_with_someone_elses_view_or_concerns_is_not_counted(
    rules: Rules, text: str
) -> None:
    reading = read_position(text, rules, others=OTHERS)
    assert reading.position is None and reading.code == "another-view"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("I agree with the proposal.", "agree"),
        ("I agree with the Secretariat's proposal.", "agree"),
        ("Je suis d'accord avec la proposition.", "agree"),
        ("Estoy de acuerdo con la propuesta.", "agree"),
        ("Concordo com a proposta.", "agree"),
        # A colleague named as the author, or further on, is no view joined.
        ("I agree with the proposal circulated by Ana.", "agree"),
        ("Agree, great work by Chloé and the team.", "agree"),
        ("I support the draft from Bruno.", "agree"),
        ("Agree. Ana's edits are fine.", "agree"),
        ("I agree with my colleague. Ana will send the annex.", "agree"),
        ("Agree - from Daniel.", "agree"),
        # Concerns answered, and abstaining over doubts, are what they say.
        ("Agree, thank you for addressing our concerns.", "agree"),
        ("I agree; my concerns have been addressed.", "agree"),
        ("De acuerdo, mis preocupaciones fueron atendidas.", "agree"),
        ("I abstain due to concerns about timing.", "abstain"),
        ("Je m'abstiens, j'ai des doutes sur le budget.", "abstain"),
        # Names that are also words, written as words.
        ("Akkoord met de tekst.", "agree"),
        ("I agree with the grant proposal.", "agree"),
        ("Estoy de acuerdo con los dos documentos.", "agree"),
        ("D'accord avec le petit changement.", "agree"),
    ],
)
def test_agreeing_with_the_proposal_is_still_agreeing(
    rules: Rules, text: str, position: str
) -> None:
    assert read_position(text, rules, others=OTHERS).position == position


def test_reason_is_the_members_own_words(rules: Rules) -> None:
    reading = read_position("Object - para 3 overlaps the existing programme.", rules)
    assert reading.reason == "para 3 overlaps the existing programme."


def test_reason_keeps_the_whole_answer_when_the_word_runs_into_it(rules: Rules) -> None:
    # "Recorded: AGREE, reason: with it." read like a fault; the member's sentence reads right.
    assert read_position("I can live with it", rules).reason == "I can live with it"
    reading = read_position("Hallo,\n\nich lehne ab: das Budget fehlt.\n\nGruß\nJonas", rules)
    assert reading.position == "object"
    assert reading.reason == "das Budget fehlt.\n\nGruß\nJonas"


def test_every_language_read_has_words_for_every_position(rules: Rules) -> None:
    # A language half-added would read "Einverstanden" and never "Enthaltung".
    languages = set(rules.languages)
    assert languages >= {"en", "fr", "es", "pt", "de", "it", "nl"}
    for key, position in rules.positions.items():
        assert set(position.words) == languages, key
    for code, language in rules.languages.items():
        assert language.negators and language.hedges and language.greetings, code
        assert language.joins and language.before_names and language.concerns, code
