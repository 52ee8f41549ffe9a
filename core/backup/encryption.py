"""Backup files encrypted at rest: AES-256-GCM in 1 MiB chunks, each bound to its position and to the end of
the file, so a changed, reordered or truncated backup is refused instead of restored.

The key is ``BACKUP_KEY`` (32 bytes, URL-safe base64; ``manage.py backup --new-key`` prints one). Without it a
development key is generated into ``BACKUP_KEY_FILE`` (mode 0600). Keep the key apart from the backups.
"""

import base64
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

MAGIC = b"PORTALBK1"
CHUNK = 1 << 20
_HEADER = struct.Struct(">QB")  # chunk index, last flag


class BackupKeyError(Exception):
    pass


def new_key():
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def private_file(path):
    """Open a new file readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, "wb")


def backup_key():
    configured = getattr(settings, "BACKUP_KEY", "").strip()
    if not configured:
        if not settings.BACKUP_KEY_FILE:
            raise BackupKeyError("未设置 BACKUP_KEY：生产环境的备份必须用单独保管的密钥加密"
                                 "（manage.py backup --new-key 生成）")
        path = Path(settings.BACKUP_KEY_FILE)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with private_file(path) as handle:
                handle.write(new_key().encode("ascii") + b"\n")
        configured = path.read_text(encoding="ascii").strip()
    try:
        raw = base64.urlsafe_b64decode(configured.encode("ascii"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BackupKeyError("BACKUP_KEY 格式不正确：应为 32 字节密钥的 URL 安全 base64 编码"
                             "（用 manage.py backup --new-key 生成）")
    return raw


def encrypt_file(source, target, key=None):
    aead = AESGCM(key or backup_key())
    with open(source, "rb") as src, private_file(target) as out:
        out.write(MAGIC)
        index, chunk = 0, src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            nonce = os.urandom(12)
            sealed = aead.encrypt(nonce, chunk, MAGIC + _HEADER.pack(index, last))
            out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
            if last:
                break
            index, chunk = index + 1, following


def decrypt_file(source, target, key=None):
    aead = AESGCM(key or backup_key())
    damaged = "备份文件已损坏、被改动或不是用当前 BACKUP_KEY 加密的，未恢复任何数据"
    with open(source, "rb") as src, private_file(target) as out:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupKeyError("不是本系统加密的备份文件")
        index = 0
        while True:
            size_bytes = src.read(4)
            if len(size_bytes) != 4:
                raise BackupKeyError(damaged)  # ended before the chunk marked last
            (size,) = struct.unpack(">I", size_bytes)
            if size > CHUNK + 16:
                raise BackupKeyError(damaged)
            nonce, sealed = src.read(12), src.read(size)
            for last in (False, True):
                try:
                    out.write(aead.decrypt(nonce, sealed, MAGIC + _HEADER.pack(index, last)))
                    break
                except InvalidTag:
                    continue
            else:
                raise BackupKeyError(damaged)
            if last:
                if src.read(1):
                    raise BackupKeyError(damaged)
                return
            index += 1
