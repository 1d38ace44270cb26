"""Where uploaded files are kept: a small interface, so that several web hosts can share them.

On one host the files live on its disk (`LocalStore`, the default). With more than one host,
every host must read the file any host saved, so the files belong in shared storage: an
S3-compatible object store (or a shared mount, which `LocalStore` serves as it is).

A store holds bytes under a name the portal made (random, safe as a file or object name):

- `save(name, data)`: keep `data` under `name`; refuses a name already taken (names are
  random, so a clash is a bug, never something to overwrite);
- `open(name)`: a binary file object to read it (FileNotFoundError when there is none);
- `delete(name)`: remove it (no error when it is already gone);
- `exists(name)`: whether it is there.

`FILE_STORAGE` chooses the store: "local" (default), or "module:callable" naming a factory
called with (area, app config) that returns such a store, e.g. an S3 backend. None is shipped:
talking to S3 properly (signed requests, retries, multipart uploads) wants boto3, a large
dependency the single-host portal does not need. docs/scaling.md says what a backend must do.
"""
import importlib
import os
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class FileStore(Protocol):
    def save(self, name: str, data: bytes) -> None: ...
    def open(self, name: str) -> BinaryIO: ...
    def delete(self, name: str) -> None: ...
    def exists(self, name: str) -> bool: ...


class LocalStore:
    """Files in a folder of the host's disk (or a mount every host shares)."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def _path(self, name):
        # Names are made by the portal, but a path component from the database is never trusted.
        return self.folder / Path(name).name

    def save(self, name, data):
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self._path(name), "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def open(self, name):
        return open(self._path(name), "rb")

    def delete(self, name):
        self._path(name).unlink(missing_ok=True)

    def exists(self, name):
        return self._path(name).is_file()


def store_for(area, folder):
    """The store for one area of files ("evidence", "uploads"); `folder` is where the local
    store keeps them."""
    choice = current_app.config.get("FILE_STORAGE") or "local"
    if choice == "local":
        return LocalStore(folder)
    module, _, name = choice.partition(":")
    return getattr(importlib.import_module(module), name)(area, current_app.config)


def local_folder(store):
    """The folder a store keeps its files in, or None when it is not on this host's disk (a
    backup then leaves the files to the object store's own versioning)."""
    return store.folder if isinstance(store, LocalStore) else None
