"""Consistent, encrypted snapshots of the database and media, and restoring them.

SQLite uses the online backup API (safe while the site runs); PostgreSQL uses pg_dump/pg_restore. Both files are
encrypted with the backup key (core/backup/encryption.py) before they are left in the backup directory; the plain
copies exist only in a private temporary directory. The encryption keys of the enrolments are not in a backup.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.backup.encryption import BackupKeyError, backup_key, decrypt_file, encrypt_file


class BackupError(Exception):
    pass


def _engine():
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"不支持的数据库类型：{vendor}")
    return vendor


def _pg_env():
    conf = connection.settings_dict
    env = dict(os.environ)
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = conf["PASSWORD"]
    return env


def _pg_args():
    conf = connection.settings_dict
    args = ["-d", conf["NAME"]]
    if conf.get("HOST"):
        args += ["-h", conf["HOST"]]
    if conf.get("PORT"):
        args += ["-p", str(conf["PORT"])]
    if conf.get("USER"):
        args += ["-U", conf["USER"]]
    return args


def _run(cmd):
    try:
        result = subprocess.run(cmd, env=_pg_env(), capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(f"找不到命令 {cmd[0]}（请安装 PostgreSQL 客户端）") from exc
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} 失败：{result.stderr.strip()[:500]}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def row_counts():
    counts = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            counts[model._meta.label] = model._base_manager.count()
    return counts


def _private_dir(parent=None):
    return Path(tempfile.mkdtemp(prefix="portal-backup-", dir=parent))  # mkdtemp: mode 0700


def create_backup(output_dir=None, log=print):
    engine = _engine()
    try:
        key = backup_key()
    except BackupKeyError as exc:
        raise BackupError(str(exc)) from exc
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    target = Path(output_dir or settings.VAR_DIR / "backups") / f"backup-{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = target.with_name(f"backup-{stamp}-{suffix}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.mkdir(mode=0o700)
    work = _private_dir()
    try:
        connection.ensure_connection()
        if engine == "sqlite":
            plain_db = work / "db.sqlite3"
            dest = sqlite3.connect(plain_db)
            try:
                connection.connection.backup(dest)
            finally:
                dest.close()
        else:
            plain_db = work / "db.dump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(plain_db), *_pg_args()])
        db_file = target / (plain_db.name + ".enc")
        encrypt_file(plain_db, db_file, key)
        log(f"数据库已备份并加密：{db_file.name}（{db_file.stat().st_size / 1024:.0f} KB）")

        plain_media = work / "media.tar.gz"
        media_root = Path(settings.MEDIA_ROOT)
        with tarfile.open(plain_media, "w:gz") as archive:
            if media_root.exists():
                archive.add(media_root, arcname="media")
        media_file = target / "media.tar.gz.enc"
        encrypt_file(plain_media, media_file, key)
        log(f"媒体文件已备份并加密：{media_file.name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    manifest = {
        "created": timezone.now().isoformat(),
        "engine": engine,
        "encrypted": True,
        "database_file": db_file.name,
        "media_file": media_file.name,
        "files": {p.name: _sha256(p) for p in (db_file, media_file)},
        "row_counts": row_counts(),
    }
    manifest_path = target / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.chmod(manifest_path, 0o600)
    log(f"备份完成：{target}")
    return target


def restore_backup(source, log=print):
    source = Path(source)
    manifest_path = source / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{source} 不是有效的备份目录（缺少 manifest.json）")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    engine = _engine()
    if manifest["engine"] != engine:
        raise BackupError(f"备份来自 {manifest['engine']}，当前数据库是 {engine}，无法直接恢复")
    for name, digest in manifest["files"].items():
        if _sha256(source / name) != digest:
            raise BackupError(f"备份文件 {name} 校验失败，可能已损坏")

    work = _private_dir()
    try:
        db_file = source / manifest["database_file"]
        media_file = source / manifest.get("media_file", "media.tar.gz")
        if manifest.get("encrypted"):
            try:
                key = backup_key()
                plain_db = work / db_file.name.removesuffix(".enc")
                decrypt_file(db_file, plain_db, key)
                plain_media = work / media_file.name.removesuffix(".enc")
                decrypt_file(media_file, plain_media, key)
            except BackupKeyError as exc:
                raise BackupError(str(exc)) from exc
            db_file, media_file = plain_db, plain_media
        _restore_database(engine, db_file)
        log("数据库已恢复")
        _restore_media(media_file)
        log("媒体文件已恢复")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def _restore_database(engine, db_file):
    connection.ensure_connection()
    if engine == "sqlite":
        src = sqlite3.connect(db_file)
        try:
            src.backup(connection.connection)
        finally:
            src.close()
    else:
        connection.close()
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              *_pg_args(), str(db_file)])


def _restore_media(media_file):
    media_root = Path(settings.MEDIA_ROOT)
    staging = media_root.with_name(media_root.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(media_file, "r:gz") as archive:
        archive.extractall(staging, filter="data")
    shutil.rmtree(media_root, ignore_errors=True)
    extracted = staging / "media"
    if extracted.exists():
        extracted.rename(media_root)
    else:
        media_root.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
