"""The TLS context for IMAP and SMTP: verified, against the system's CAs or a configured one."""

from __future__ import annotations

import ssl


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
