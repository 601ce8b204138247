"""Participant keys and signed reports (``cryptography``): Ed25519 or ECDSA (P-256/P-384/P-521 with SHA-256).

A report travels as ``{"payload": base64url(bytes), "signature": base64url(sig)}``: the coordinator verifies
the signature over exactly the bytes it received, then parses them, so no JSON re-encoding can change what
was signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from app.errors import ReportSignatureError, ValidationError
from app.i18n import Message

KeyType = Literal["ed25519", "ecdsa-p256"]
CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


def generate_key(key_type: KeyType = "ed25519"):
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValidationError(
        Message("Unknown key type '{key_type}'", key_type=key_type),
        {"key_type": key_type, "known": ["ed25519", "ecdsa-p256"]},
    )


def load_or_create_key(path: Path, key_type: KeyType = "ed25519"):
    """The participant's private key kept in its data directory (PEM, PKCS#8, mode 0600), made on first use."""
    if path.is_file():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = generate_key(key_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_public_key(pem: str):
    """A PEM Ed25519 or ECDSA public key; anything else is a typed error."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValidationError(f"public_key is not a PEM public key: {exc}", {"field": "public_key"}) from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, CURVES):
        return key
    raise ValidationError(
        f"public_key must be Ed25519 or ECDSA (P-256, P-384, P-521), not {type(key).__name__}", {"field": "public_key"}
    )


def key_type_of(public_key) -> str:
    return "ed25519" if isinstance(public_key, ed25519.Ed25519PublicKey) else f"ecdsa-{public_key.curve.name}"


def fingerprint(pem: str) -> str:
    """SHA-256 of the key's DER encoding: one key, one fingerprint, however its PEM is wrapped."""
    der = load_public_key(pem).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValidationError(f"{what} is not base64url", {"field": what}) from None


def sign_report(private_key, session_id: str, participant_id: str, releases: list[dict[str, Any]]) -> dict[str, str]:
    """The signed envelope of one report: a fresh nonce and the time, so a copy of it is a replay."""
    payload = {
        "session_id": session_id,
        "participant_id": participant_id,
        "nonce": secrets.token_hex(16),
        "created_at": datetime.now(UTC).isoformat(),
        "releases": releases,
    }
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(data)
    else:
        signature = private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    return {"payload": _b64(data), "signature": _b64(signature)}


def open_report(envelope: dict[str, str], public_key_pem: str) -> tuple[dict[str, Any], str]:
    """Verify the envelope with the participant's key; (payload, sha256 of the signed bytes). Raises before
    parsing anything when the signature is wrong."""
    data, signature = _unb64(envelope["payload"], "payload"), _unb64(envelope["signature"], "signature")
    key = load_public_key(public_key_pem)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ReportSignatureError(
            Message("The report's signature does not verify with the participant's registered key"), {}
        ) from None
    try:
        payload = json.loads(data)
    except ValueError:
        raise ValidationError("The signed payload is not JSON", {}) from None
    if not isinstance(payload, dict):
        raise ValidationError("The signed payload must be a JSON object", {})
    return payload, hashlib.sha256(data).hexdigest()
