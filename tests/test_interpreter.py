"""The portal runs on a Python that does not corrupt its own memory under the garbage collector.

Python 3.11 keeps a plain object's attributes in a values array until a name does not fit the
class's shared keys; it then makes a dict over that array. Making the dict allocates, the
allocation may run the garbage collector, and the collector may call a weakref callback that
sets an attribute on the same object: the callback's dict frees the array, and the first dict
goes on using it. SQLAlchemy does exactly this: closing a session sets `_strong_obj` on each
InstanceState while the collector runs `InstanceState._cleanup` for a state whose object was
collected. gunicorn workers died of it with a segmentation fault every dozen or so requests to
the forward plan. Python 3.12 stores attributes differently and is not affected.
"""
import os
import subprocess
import sys
import textwrap

# The same sequence in plain Python: a new attribute name forces the dict to be made while a
# weakref callback in a collected cycle sets another new attribute on the same object.
SCRIPT = textwrap.dedent("""
    import gc, weakref

    class Plain:
        pass

    for i in range(40):  # fill the shared keys, so a new name forces a dict
        setattr(Plain(), f"a{i}", i)

    class Cycle:
        pass

    kept = []

    def trial():
        target = Plain()
        target.a0 = 1
        cycle = Cycle()
        cycle.itself = cycle
        kept.append(weakref.ref(cycle, lambda ref, target=target: setattr(target, "late", 1)))
        del cycle
        target.brand_new_name = 2

    gc.set_threshold(1)
    for _ in range(2000):
        trial()
    print("survived")
""")


def test_the_interpreter_survives_a_collector_callback_while_making_an_attribute_dict():
    # PYTHONMALLOC=debug fills freed memory, so a use after free crashes at once.
    env = dict(os.environ, PYTHONMALLOC="debug")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "survived" in done.stdout, (
        f"Python {sys.version.split()[0]} crashed (exit {done.returncode}): run the portal on "
        "Python 3.12 or newer")


def test_the_portal_is_installed_on_python_3_12_or_newer():
    assert sys.version_info >= (3, 12), "see this module's docstring"
