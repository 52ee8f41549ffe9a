"""Encryption at rest and keyed hashing for ID numbers.

Encryption keys: ENROLMENT_KEYS (comma-separated Fernet keys, newest first; read through MultiFernet) or a
single ENROLMENT_KEY; without either a development key is generated once into settings.ENROLMENT_KEY_FILE
(under the git-ignored var/ directory). The duplicate-check hash (HMAC-SHA256) has its own key,
ENROLMENT_HASH_KEY (in development generated into enrolment-hash.key beside the key file), so rotating the
encryption key keeps duplicate detection.
"""

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

HASH_KEY_FILE_NAME = "enrolment-hash.key"
MIN_HASH_KEY_LENGTH = 32
GENERATE_FERNET = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
GENERATE_HASH = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class EnrolmentKeyError(ImproperlyConfigured):
    pass


class DecryptionError(Exception):
    """The configured keys cannot read this token."""


def _load_or_create(path, generate):
    path = Path(path)
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


@lru_cache(maxsize=8)
def _fernet_keys(keys_setting, key_setting, key_file):
    if keys_setting.strip():
        name, keys = "ENROLMENT_KEYS", [part.strip() for part in keys_setting.split(",")]
    elif key_setting.strip():
        name, keys = "ENROLMENT_KEY", [key_setting.strip()]
    else:
        name, keys = f"ENROLMENT_KEY_FILE（{key_file}）", [_load_or_create(key_file, _new_fernet_key)]
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            where = f"中第 {position} 个密钥" if len(keys) > 1 else ""
            raise EnrolmentKeyError(
                f"{name}{where}不是有效的 Fernet 密钥（应为 32 字节的 urlsafe base64，共 44 个字符；"
                f"多个密钥用英文逗号分隔，不能留空）。生成新密钥：{GENERATE_FERNET}") from None
    return tuple(key.encode("ascii") for key in keys)


def _new_fernet_key():
    return Fernet.generate_key().decode("ascii")


def fernet_keys():
    """The encryption keys, newest first; EnrolmentKeyError when one is malformed."""
    return _fernet_keys(getattr(settings, "ENROLMENT_KEYS", ""), getattr(settings, "ENROLMENT_KEY", ""),
                        str(settings.ENROLMENT_KEY_FILE))


def hash_key_file():
    return Path(settings.ENROLMENT_KEY_FILE).with_name(HASH_KEY_FILE_NAME)


@lru_cache(maxsize=8)
def _hash_key(configured, key_file):
    key = configured.strip()
    name = "ENROLMENT_HASH_KEY"
    if not key:
        key, name = _load_or_create(key_file, lambda: secrets.token_urlsafe(32)), f"密钥文件 {key_file}"
    if len(key) < MIN_HASH_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise EnrolmentKeyError(f"{name} 至少需要 {MIN_HASH_KEY_LENGTH} 个可打印的 ASCII 字符。"
                                f"生成新密钥：{GENERATE_HASH}")
    return key.encode("ascii")


def hash_key():
    return _hash_key(getattr(settings, "ENROLMENT_HASH_KEY", ""), str(hash_key_file()))


@lru_cache(maxsize=8)
def _multi(keys):
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(text):
    return _multi(fernet_keys()).encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token):
    try:
        return _multi(fernet_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise DecryptionError("configured enrolment keys cannot decrypt this token") from None


def is_current(token):
    """True when the newest key reads the token (nothing to rotate)."""
    try:
        Fernet(fernet_keys()[0]).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True


def rotate(token):
    """Re-encrypt under the newest key; DecryptionError when no configured key reads it."""
    try:
        return _multi(fernet_keys()).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        raise DecryptionError("configured enrolment keys cannot decrypt this token") from None


def lookup_hash(text):
    return hmac.new(hash_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()
