"""Encryption at rest and keyed hashing for ID numbers.

The key comes from the ENROLMENT_KEY environment variable (a Fernet key); without it a development
key is generated once into settings.ENROLMENT_KEY_FILE (under the git-ignored var/ directory).
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _load_or_create(path):
    path = Path(path)
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


@lru_cache(maxsize=4)
def _master_key(configured, key_file):
    key = configured.strip() or _load_or_create(key_file)
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured("ENROLMENT_KEY 必须是 Fernet 密钥（32 字节的 urlsafe base64）")
    return key.encode("ascii")


def master_key():
    return _master_key(getattr(settings, "ENROLMENT_KEY", ""), str(settings.ENROLMENT_KEY_FILE))


def _fernet():
    return Fernet(master_key())


def _hmac_key():
    return hmac.new(master_key(), b"campaigns.id-number-lookup", hashlib.sha256).digest()


def encrypt(text):
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token):
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return ""


def lookup_hash(text):
    return hmac.new(_hmac_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()
