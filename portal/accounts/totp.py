"""Authenticator-app codes (TOTP, RFC 6238) and recovery codes, with no database in sight.

The shared secret is kept sealed: encrypted and authenticated with a key of the portal's
(`MFA_KEY`, or one derived from `SECRET_KEY` when that is unset). Sealing uses only the
standard library: HMAC-SHA256 as the keystream generator in counter mode, then an HMAC-SHA256
tag over the nonce and ciphertext (encrypt-then-MAC, separate keys for each), so a secret
copied out of a database backup is useless without the key, and a tampered one is refused.
"""
import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from flask import current_app

ISSUER = "Pathfinder"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code read off paper is typed back without guessing.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_SEAL_VERSION = "v1."
_NONCE_BYTES = 16
_TAG_BYTES = 32


class SealBroken(ValueError):
    """A sealed value was altered, or sealed under another key."""


def _master_key():
    key = current_app.config.get("MFA_KEY") or current_app.config["SECRET_KEY"]
    return hashlib.sha256(b"pathfinder two-step sign-in\0" + key.encode()).digest()


def _subkey(purpose):
    return hmac.new(_master_key(), purpose, hashlib.sha256).digest()


def _keystream(nonce, length):
    key, blocks = _subkey(b"encrypt"), []
    for counter in range(0, length, 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def _tag(nonce, ciphertext):
    return hmac.new(_subkey(b"authenticate"), nonce + ciphertext, hashlib.sha256).digest()


def seal(text):
    """Encrypt and authenticate `text`; the result is printable and fits in 255 characters."""
    plain, nonce = text.encode(), secrets.token_bytes(_NONCE_BYTES)
    ciphertext = bytes(a ^ b for a, b in zip(plain, _keystream(nonce, len(plain))))
    packed = nonce + ciphertext + _tag(nonce, ciphertext)
    return _SEAL_VERSION + base64.urlsafe_b64encode(packed).decode()


def unseal(sealed):
    """The text that `seal` sealed; raises SealBroken if it was altered or the key differs."""
    packed = _unpack(sealed)
    nonce, ciphertext, tag = (packed[:_NONCE_BYTES], packed[_NONCE_BYTES:-_TAG_BYTES],
                              packed[-_TAG_BYTES:])
    if len(packed) < _NONCE_BYTES + _TAG_BYTES or not hmac.compare_digest(
            tag, _tag(nonce, ciphertext)):
        raise SealBroken("The sealed value does not match the key")
    return bytes(a ^ b for a, b in zip(ciphertext, _keystream(nonce, len(ciphertext)))).decode()


def _unpack(sealed):
    """The bytes inside a sealed value. Only the one encoding `seal` writes is accepted: base64
    ignores the spare bits of a final character, so a looser read would let an altered
    character through unnoticed."""
    if not isinstance(sealed, str) or not sealed.startswith(_SEAL_VERSION):
        raise SealBroken("Not a sealed value")
    body = sealed[len(_SEAL_VERSION):]
    try:
        packed = base64.urlsafe_b64decode(body.encode())
    except ValueError:
        packed = None
    if packed is None or base64.urlsafe_b64encode(packed).decode() != body:
        raise SealBroken("Not a sealed value")
    return packed


def new_secret():
    """A fresh shared secret: 160 random bits in base32, as authenticator apps expect."""
    return pyotp.random_base32()


def grouped(secret):
    """The secret in groups of four characters, easier to read and type."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret, email):
    """The otpauth:// address an authenticator app reads to add the account."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def clean_code(code):
    """What the person typed, without spaces or hyphens they may have copied along."""
    return "".join((code or "").split()).replace("-", "").lower()


def matching_step(secret, code, after=None, now=None):
    """The time step whose code is `code` (allowing one step of clock drift either way), or
    None. A step at or before `after` never matches, so a code cannot be used twice."""
    code = clean_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in (current - 1, current, current + 1):
        fresh = after is None or step > after
        if hmac.compare_digest(totp.generate_otp(step), code) and fresh:
            return step
    return None


def new_recovery_codes():
    """Ten single-use codes, each ten characters shown as two groups of five."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes
