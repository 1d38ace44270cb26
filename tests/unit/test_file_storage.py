"""Uploaded files go through a small store interface (portal/core/storage.py): the local disk
by default, or a store named by FILE_STORAGE that several hosts share."""
import pytest

from portal.core import backup, files
from portal.core.exceptions import DomainError
from portal.core.storage import LocalStore
from tests import stores
from tests.stores import use_shared_store


@pytest.fixture
def shared(app, monkeypatch):
    objects = use_shared_store(app, monkeypatch)
    yield objects
    assert stores.STATE["areas"] <= {"evidence"}
    objects.clear()


def test_the_local_store_keeps_bytes_and_never_overwrites(tmp_path):
    store = LocalStore(tmp_path / "evidence")
    store.save("a" * 32, b"%PDF-1.4 one")
    assert store.exists("a" * 32) and store.open("a" * 32).read() == b"%PDF-1.4 one"
    with pytest.raises(FileExistsError):
        store.save("a" * 32, b"%PDF-1.4 two")
    store.save("../" + "b" * 32, b"x")  # a path component is never followed
    assert (tmp_path / "evidence" / ("b" * 32)).exists()
    store.delete("a" * 32)
    store.delete("a" * 32)  # already gone: no error
    assert not store.exists("a" * 32)


def test_evidence_goes_to_the_configured_store(ctx, shared):
    name, _digest = files.store(b"%PDF-1.4 shared")
    assert shared == {name: b"%PDF-1.4 shared"}
    assert files.exists(name) and files.open_stored(name).read() == b"%PDF-1.4 shared"
    files.discard(name)
    assert shared == {}


def test_a_backup_leaves_object_storage_to_the_store(ctx, shared, tmp_path):
    with pytest.raises(DomainError, match="object storage"):
        backup.backup(tmp_path / "backup")
