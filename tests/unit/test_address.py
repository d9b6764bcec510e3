"""Address normalisation: the spellings members' mail programs really send match the config."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.inbound.address import normalise

PLUS = frozenset({"x.org"})


def test_case_is_ignored_in_both_parts() -> None:
    # Phones and address books capitalise the first letter; that is still the member.
    assert normalise("Amina@X.ORG") == "amina@x.org"


def test_surrounding_space_and_angle_brackets_go() -> None:
    # Addresses copied out of a header arrive as `<amina@x.org>` with stray whitespace.
    assert normalise("  <amina@x.org>\n") == "amina@x.org"


def test_one_trailing_dot_on_the_domain_goes() -> None:
    # `x.org.` is the fully qualified spelling of the same domain.
    assert normalise("amina@x.org.") == "amina@x.org"


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ('"amina"@x.org', "amina@x.org"),
        ('"Amina.Diallo"@x.org', "amina.diallo@x.org"),
        ('"am\\ina"@x.org', "amina@x.org"),
        ('"amina diallo"@x.org', '"amina diallo"@x.org'),
        ('"amina..d"@x.org', '"amina..d"@x.org'),
        ('"a@b"@x.org', '"a@b"@x.org'),
    ],
)
def test_quotes_go_only_when_the_local_part_does_not_need_them(given_: str, expected: str) -> None:
    # Some clients quote every local part; one that needs its quotes must keep them.
    assert normalise(given_) == expected


def test_plus_tag_is_dropped_for_configured_domains() -> None:
    # A member who subscribes as amina+cg@ at a tag-delivering provider is still amina@.
    assert normalise("Amina+CG@X.org.", frozenset({"X.ORG"})) == "amina@x.org"
    assert normalise('"amina+cg"@x.org', PLUS) == "amina@x.org"


def test_plus_is_kept_for_other_domains() -> None:
    # Elsewhere `+` may be part of a real, distinct mailbox name.
    assert normalise("amina+cg@y.org", PLUS) == "amina+cg@y.org"
    assert normalise("amina+cg@x.org") == "amina+cg@x.org"


def test_a_tag_only_local_part_is_kept() -> None:
    # Dropping everything from `+` would leave an empty local part, which matches nobody.
    assert normalise("+cg@x.org", PLUS) == "+cg@x.org"


def test_non_ascii_domains_stay_unicode_and_compare_lower_case() -> None:
    # IDNA domains are not converted to xn--, but case still does not matter.
    assert normalise("Amina@BÜCHER.de") == "amina@bücher.de"


@pytest.mark.parametrize(
    ("given_", "expected"),
    [("", ""), ("  Not An Address ", "not an address"), ("<>", ""), ("@", "@"), ('"', '"')],
)
def test_garbage_comes_back_stripped_and_lower_cased(given_: str, expected: str) -> None:
    # A malformed From must not crash the pipeline; it simply matches no one.
    assert normalise(given_) == expected


_PIECES = st.text(alphabet='aZ+."\\@<> \t.É', max_size=12)
_DOMAINS = st.sampled_from(["x.org", "X.ORG.", "y.net", "", ".", "x.org..", "x>.", "BÜCHER.de"])


@given(st.one_of(st.text(), st.builds(lambda lp, d: f"{lp}@{d}", _PIECES, _DOMAINS)))
def test_normalising_twice_changes_nothing(address: str) -> None:
    # Stored addresses are normalised again when compared, so a second pass must be a no-op.
    once = normalise(address, PLUS)
    assert normalise(once, PLUS) == once
