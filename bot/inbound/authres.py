"""Authentication-Results (RFC 8601) added by the receiving server: did DMARC/DKIM/SPF fail?

Only headers whose authserv-id the configuration trusts are read (a sender can write any header
it likes; the trusted server adds its own on top), and of those the topmost one counts."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RESULT = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*([a-z]+)", re.IGNORECASE)


@dataclass(frozen=True)
class AuthVerdict:
    authserv_id: str
    results: dict[str, list[str]]

    def failure(self) -> str | None:
        """Why the message must not be trusted, or None when it may be."""
        dmarc = self.results.get("dmarc", [])
        if "fail" in dmarc:
            return f"DMARC failed at {self.authserv_id}"
        if dmarc and "pass" in dmarc:
            return None
        dkim, spf = self.results.get("dkim", []), self.results.get("spf", [])
        if "pass" in dkim or "pass" in spf:
            return None
        if "fail" in dkim and (set(spf) & {"fail", "softfail"}):
            return f"DKIM and SPF failed at {self.authserv_id}"
        return None


def parse(value: str) -> AuthVerdict:
    head, _, rest = value.partition(";")
    authserv_id = head.strip().split()[0].lower() if head.strip() else ""
    results: dict[str, list[str]] = {}
    for method, result in _RESULT.findall(rest):
        results.setdefault(method.lower(), []).append(result.lower())
    return AuthVerdict(authserv_id, results)


def verdict(values: tuple[str, ...], trusted: frozenset[str]) -> AuthVerdict | None:
    """The topmost Authentication-Results from a trusted server, if there is one."""
    for value in values:
        parsed = parse(value)
        if parsed.authserv_id in trusted:
            return parsed
    return None
