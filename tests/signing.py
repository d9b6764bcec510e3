"""A signing key made for a test, and the DNS record that publishes it (DKIM and ARC alike)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class Signer:
    private_pem: bytes
    dns_record: bytes  # the TXT record at <selector>._domainkey.<domain>


def new_signer() -> Signer:
    """A 2048-bit RSA key (the size real signers use; dkimpy refuses keys under 1024)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Signer(pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der))
