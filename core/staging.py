"""Uploads kept between an import's preview and its confirmation: outside MEDIA_ROOT (never served), in
directories of mode 0700 with files of mode 0600, removed on confirmation or after a day."""

import os
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAX_AGE = 24 * 3600


def root():
    return Path(getattr(settings, "STAGING_DIR", None) or Path(settings.VAR_DIR) / "staging")


def _private_dir(path):
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is reduced by the umask, and an existing directory keeps its own
    return path


def directory(kind, base=None):
    """The staging directory for one kind of import (created 0700, refused inside MEDIA_ROOT)."""
    path = Path(base) if base else root() / kind
    media = Path(settings.MEDIA_ROOT).resolve()
    resolved = path.resolve()
    if resolved == media or media in resolved.parents:
        raise ImproperlyConfigured(f"上传暂存目录 {path} 不能位于 MEDIA_ROOT（{media}）之内")
    if not base:
        _private_dir(root())
    return _private_dir(path)


def make_dir(parent, name):
    return _private_dir(Path(parent) / name)


def write(path, data):
    """Write a new file readable by this user only (mode 0600)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)
    return path


def remove(path):
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale(folder, max_age=MAX_AGE, pattern="*"):
    """Previews that were never confirmed leave their files behind; drop those older than ``max_age``."""
    cutoff = time.time() - max_age
    for path in Path(folder).glob(pattern):
        try:
            if path.lstat().st_mtime < cutoff:
                remove(path)
        except OSError:
            continue
