"""Back up an instance and restore it elsewhere: the database as one consistent copy, and the
files people uploaded (forward-plan documents; accreditation and consortium evidence).

A backup is a folder of three files:

    manifest.json      when it was made, the kind of database, the Alembic revision, the rows
                       in every table, the files, and a SHA-256 of the other two files
    database.sqlite3   SQLite: a copy made with SQLite's online backup API while the portal runs
    database.pgdump    PostgreSQL: `pg_dump --format=custom` of the same snapshot the rows were
                       counted in
    files.tar          uploads/ and evidence/

The database is copied before the files: a document is written before the row naming it is
committed, so every row in the copy finds its file. The search indexes are not copied; after a
restore they are rebuilt from the database (`flask restore` does it).
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from portal.core.exceptions import DomainError
from portal.core.mixins import utcnow
from portal.extensions import db

FORMAT = 1
MANIFEST, FILES = "manifest.json", "files.tar"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Folder in the archive: the setting naming where the portal keeps those files, and where
# it keeps them when the setting is empty.
FILE_FOLDERS = {"uploads": ("PIPELINE_UPLOAD_DIR", ("uploads", "pipeline")),
                "evidence": ("EVIDENCE_DIR", ("evidence",))}
# Tables that hold no data of the portal's: a freshly migrated database has a row here.
BOOKKEEPING_TABLES = {"alembic_version"}


def backup(destination):
    """Copy the database and the uploaded files into `destination` (a new or empty folder)
    and return the manifest written beside them."""
    _require_local_files()
    folder = _new_folder(Path(destination))
    kind = _database_kind()
    created_at = utcnow()
    database_file = folder / DATABASE_FILES[kind]
    tables, revision = _BACKUPS[kind](database_file)
    files = _archive_files(folder / FILES)
    manifest = {"format": FORMAT, "created_at": created_at.isoformat(timespec="seconds") + "Z",
                "database": kind, "alembic_revision": revision, "tables": tables,
                "files": files, "sha256": {name: _sha256(folder / name)
                                           for name in (database_file.name, FILES)}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def restore(source, force=False):
    """Replace this instance's database and uploaded files with the backup in `source` and
    return its manifest. Refuses, before changing anything, a damaged backup, one of another
    kind of database, and (unless `force`) an instance that already holds data or files."""
    folder = Path(source)
    manifest = read_manifest(folder)
    kind = _database_kind()
    if manifest["database"] != kind:
        raise DomainError(f"This is a backup of a {manifest['database']} database; the portal "
                          f"now uses {kind}. Restore it into the same kind of database.")
    if not force:
        _require_empty()
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    _RESTORES[kind](folder / DATABASE_FILES[kind])
    db.engine.dispose()
    _extract_files(folder / FILES)
    _check_counts(manifest["tables"])
    return manifest


def read_manifest(folder):
    """The manifest of the backup in `folder`, once its files match their checksums."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        raise DomainError(f"{folder} is not a backup: it has no readable {MANIFEST}")
    if manifest.get("format") != FORMAT:
        raise DomainError(f"{folder} holds a backup in a format this version cannot read")
    for name, expected in manifest["sha256"].items():
        if not (folder / name).is_file() or _sha256(folder / name) != expected:
            raise DomainError(f"{name} in {folder} is missing or damaged: its checksum differs")
    return manifest


def row_counts(connection):
    """Rows in every table the database holds, by table name."""
    names = sorted(inspect(connection).get_table_names())
    return {name: connection.execute(select(func.count()).select_from(table(name))).scalar()
            for name in names}


# --- what is there now --------------------------------------------------------------------------

def _database_kind():
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise DomainError(f"Backups of {name} databases are not supported")
    return name


def _require_local_files():
    """Files in shared object storage (`FILE_STORAGE`, portal.core.storage) are not copied
    here: the store keeps them, with its own versioning or replication."""
    if (current_app.config.get("FILE_STORAGE") or "local") != "local":
        raise DomainError("Uploaded files are kept in object storage (FILE_STORAGE): back them "
                          "up with the store's own versioning; this command copies files from "
                          "local folders only")


def file_folder(name):
    setting, default = FILE_FOLDERS[name]
    return Path(current_app.config.get(setting) or Path(current_app.instance_path, *default))


def _require_empty():
    with db.engine.connect() as connection:
        tables = [name for name, count in row_counts(connection).items()
                  if count and name not in BOOKKEEPING_TABLES]
    folders = [name for name in FILE_FOLDERS if _files_in(file_folder(name))]
    if tables or folders:
        more = [f"{len(tables) - 5} more tables"] if len(tables) > 5 else []
        held = ", ".join(tables[:5] + more + [f"{name} files" for name in folders])
        raise DomainError(f"This instance already holds data ({held}). Restore into an "
                          "empty database and folders, or pass --force to replace it all.")


def _files_in(folder):
    return [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []


def _check_counts(expected):
    with db.engine.connect() as connection:
        found = row_counts(connection)
    differing = {name: (count, found.get(name)) for name, count in expected.items()
                 if found.get(name) != count}
    if differing:
        raise DomainError(f"The restored database differs from the backup's manifest "
                          f"(table: expected, found): {differing}")


def _new_folder(folder):
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DomainError(f"{folder} already exists and is not an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _revision(connection):
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


# --- SQLite ---------------------------------------------------------------------------------------

def _sqlite_backup(target):
    """Copy the live database page by page with SQLite's backup API (consistent even while
    others write), then count the copy's rows."""
    live = db.engine.raw_connection()
    try:
        with closing(sqlite3.connect(target)) as copy:
            live.driver_connection.backup(copy)
    finally:
        live.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return row_counts(connection), _revision(connection)
    finally:
        engine.dispose()


def _sqlite_restore(source):
    """Write the backup over the configured database with the same API: the database
    becomes exactly the copy, whatever it held."""
    path = db.engine.url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    live = db.engine.raw_connection()
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as copy:
            copy.backup(live.driver_connection)
    finally:
        live.close()


# --- PostgreSQL -----------------------------------------------------------------------------------

def _libpq(url):
    """(connection string for pg_dump and pg_restore, environment): the password travels in
    PGPASSWORD, out of sight of `ps`."""
    url = make_url(url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return url.set(drivername="postgresql", password=None).render_as_string(), env


def _run(command, env):
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise DomainError(f"{command[0]} was not found: install the PostgreSQL client tools")
    if done.returncode:
        raise DomainError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _pg_backup(target):
    """pg_dump of an exported snapshot, counted in that same snapshot, so the manifest says
    exactly what the dump holds while the portal goes on writing."""
    dsn, env = _libpq(db.engine.url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            tables, revision = row_counts(connection), _revision(connection)
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--file",
                  str(target), dsn], env)
    return tables, revision


def _pg_restore(source):
    """pg_restore in one transaction: the dump's tables are dropped when present and created
    again, with their rows; on any error nothing changes."""
    dsn, env = _libpq(db.engine.url)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", "--dbname", dsn, str(source)], env)


_BACKUPS = {"sqlite": _sqlite_backup, "postgresql": _pg_backup}
_RESTORES = {"sqlite": _sqlite_restore, "postgresql": _pg_restore}


# --- files ----------------------------------------------------------------------------------------

def _archive_files(target):
    """Put each file folder into one tar under its name; return files and bytes of each."""
    summary = {}
    with tarfile.open(target, "w") as archive:
        for name in FILE_FOLDERS:
            folder = file_folder(name)
            files = _files_in(folder)
            if folder.is_dir():
                archive.add(folder, arcname=name)
            summary[name] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}
    return summary


def _extract_files(archive_path):
    """Unpack the archive and put each folder's files where this instance keeps them,
    replacing what was there (only ever a file of the same random name, or one no row of the
    restored database names)."""
    with tempfile.TemporaryDirectory(prefix="pathfinder-restore-") as scratch:
        with tarfile.open(archive_path) as archive:
            archive.extractall(scratch, filter="data")  # no links out, no absolute paths
        for name in FILE_FOLDERS:
            target = file_folder(name)
            _empty(target)
            unpacked = Path(scratch, name)
            if unpacked.is_dir():
                shutil.copytree(unpacked, target, dirs_exist_ok=True)


def _empty(folder):
    """Make `folder` an empty folder, keeping the folder itself (it may be a mount)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
