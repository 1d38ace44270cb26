"""A file store every host would reach, as FILE_STORAGE names one ("module:factory"): kept in
a dict for the test run, and able to be full."""
import io

OBJECTS = {}
STATE = {"full": False, "areas": set()}


class SharedStore:
    def save(self, name, data):
        if STATE["full"]:
            raise OSError(28, "No space left on device")
        if name in OBJECTS:
            raise FileExistsError(name)
        OBJECTS[name] = bytes(data)

    def open(self, name):
        if name not in OBJECTS:
            raise FileNotFoundError(name)
        return io.BytesIO(OBJECTS[name])

    def delete(self, name):
        OBJECTS.pop(name, None)

    def exists(self, name):
        return name in OBJECTS


def shared_store(area, config):
    assert "FILE_STORAGE" in config
    STATE["areas"].add(area)
    return SharedStore()


def use_shared_store(app, monkeypatch):
    """Point FILE_STORAGE at the shared store, empty; returns its objects."""
    monkeypatch.setitem(app.config, "FILE_STORAGE", f"{__name__}:shared_store")
    OBJECTS.clear()
    STATE.update(full=False, areas=set())
    return OBJECTS
