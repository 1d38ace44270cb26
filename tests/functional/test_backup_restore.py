"""`flask backup` and `flask restore`: an instance with records, an uploaded document and an
evidence file is backed up, restored into an empty instance (its own database and folders),
and everything is there: the same rows in every table, the same file bytes, and search finds
the restored organisation and entry.

The databases are of the kind TEST_DATABASE_URL names (tests/production.py `fresh_database`):
SQLite files in the SQLite pass of the suite, scratch PostgreSQL databases, created and dropped
here, in the PostgreSQL pass (pg_dump and pg_restore).
"""
import io
import json
import shutil
from contextlib import ExitStack, contextmanager

import pytest
from flask_migrate import upgrade
from werkzeug.datastructures import FileStorage

from config import TestingConfig
from portal import create_app
from portal.accreditation import evidence
from portal.core.backup import file_folder, row_counts
from portal.extensions import db
from portal.pipeline import services as pipeline
from portal.reference.loaders import load_reference
from portal.search import services as search
from tests import factories
from tests.production import fresh_database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVIDENCE = b"%PDF-1.4\n% governing document, signed\n%%EOF\n"


@contextmanager
def instance(folder, purpose):
    """An app over an empty database and empty folders of its own."""
    with fresh_database(purpose) as url:
        config = type("Instance", (TestingConfig,), {
            "SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(folder / "search"),
            "PIPELINE_UPLOAD_DIR": str(folder / "uploads"),
            "EVIDENCE_DIR": str(folder / "evidence")})
        app = create_app(config)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _fill(app):
    """Migrations, reference data, a council with an entry and its document, a charity with a
    member, and an evidence file; returns the ids to look for."""
    with app.app_context():
        upgrade()
        load_reference()
        council = factories.make_org("Leeds City Council", org_type="commissioner")
        officer = factories.make_user(council, email="officer@leeds.example")
        charity = factories.make_org("Riverside Befriending",
                                     description="Befriending for older people")
        factories.make_user(charity, email="admin@riverside.example")
        entry = pipeline.create_opportunity(council, {
            "title": "Carers support service", "description": "Advice and short breaks",
            "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
            "value_basis": "whole_life", "suitable_vcse": True}, officer)
        pipeline.change_status(entry, "planned", officer)
        document = pipeline.add_document(entry, FileStorage(io.BytesIO(PDF), "spec.pdf"),
                                         "Specification", officer)
        evidence.store(EVIDENCE)
        return {"charity": charity.id, "entry": entry.id, "document": document.id}


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _state(app):
    """(rows per table, {relative path: bytes} of every uploaded file)."""
    with app.app_context():
        with db.engine.connect() as connection:
            counts = row_counts(connection)
        files = {f"{name}/{path.relative_to(file_folder(name))}": path.read_bytes()
                 for name in ("uploads", "evidence")
                 for path in sorted(file_folder(name).rglob("*")) if path.is_file()}
    return counts, files


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    """A filled instance, its state, and a backup of it."""
    folder = tmp_path_factory.mktemp("source")
    with instance(folder, "backup_source") as source:
        ids = _fill(source)
        result = _cli(source, "backup", str(folder / "backup"))
        assert result.exit_code == 0, result.output
        yield source, ids, _state(source), folder / "backup"


@pytest.fixture
def empty_instance(tmp_path):
    with ExitStack() as stack:
        yield lambda name="target": stack.enter_context(instance(tmp_path / name, "restore_target"))


def test_a_backup_says_what_it_holds(backed_up):
    source, _ids, (counts, files), backup = backed_up
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["tables"] == counts and manifest["tables"]["opportunity_document"] == 1
    assert manifest["alembic_revision"] and manifest["tables"]["alembic_version"] == 1
    assert manifest["files"] == {"uploads": {"files": 1, "bytes": len(PDF)},
                                 "evidence": {"files": 1, "bytes": len(EVIDENCE)}}
    database = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[manifest["database"]]
    assert set(manifest["sha256"]) == {"files.tar", database}
    assert sorted(path.name for path in backup.iterdir()) == sorted(
        ["manifest.json", "files.tar", database])


def test_a_restore_into_an_empty_instance_has_every_row_file_and_search_hit(backed_up,
                                                                           empty_instance):
    _source, ids, (counts, files), backup = backed_up
    target = empty_instance()
    result = _cli(target, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "indexed 2 organisations" in result.output
    assert _state(target) == (counts, files)
    with target.app_context():
        assert search.search_organisation_ids("riverside befriending") == [ids["charity"]]
        assert search.search_opportunity_ids("carers") == [ids["entry"]]
    client = target.test_client()
    assert "Riverside Befriending" in client.get("/organisations?q=riverside").text
    download = client.get(f"/forward-plan/{ids['entry']}/documents/{ids['document']}")
    assert download.status_code == 200 and download.data == PDF


def test_restore_refuses_an_instance_with_data_unless_forced(backed_up, empty_instance):
    _source, _ids, (counts, files), backup = backed_up
    target = empty_instance()
    assert _cli(target, "restore", str(backup)).exit_code == 0
    with target.app_context():
        stray = file_folder("evidence") / ("0" * 32)
        stray.write_bytes(b"not in the backup")
    refused = _cli(target, "restore", str(backup))
    assert refused.exit_code != 0 and "already holds data" in refused.output
    forced = _cli(target, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    assert _state(target) == (counts, files)  # the stray file is gone


def test_files_alone_make_an_instance_not_empty(backed_up, empty_instance):
    target = empty_instance()
    with target.app_context():
        file_folder("uploads").mkdir(parents=True)
        (file_folder("uploads") / "left-over.pdf").write_bytes(PDF)
    refused = _cli(target, "restore", str(backed_up[3]))
    assert refused.exit_code != 0 and "uploads files" in refused.output


def test_a_damaged_backup_is_refused_before_anything_changes(backed_up, empty_instance,
                                                             tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(backed_up[3], damaged)
    with open(damaged / "files.tar", "r+b") as archive:
        archive.seek(600)
        archive.write(b"\x00garbage")
    target = empty_instance()
    refused = _cli(target, "restore", str(damaged))
    assert refused.exit_code != 0 and "files.tar" in refused.output and "damaged" in refused.output
    counts, files = _state(target)
    assert not any(counts.values()) and not files


def test_a_backup_goes_into_a_new_or_empty_folder_only(backed_up):
    source, _ids, _state_before, backup = backed_up
    refused = _cli(source, "backup", str(backup))
    assert refused.exit_code != 0 and "not an empty folder" in refused.output


@pytest.mark.postgres
def test_on_postgresql_the_backup_is_a_pg_dump_of_one_snapshot(backed_up):
    backup = backed_up[3]
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"] == "postgresql"
    assert (backup / "database.pgdump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
