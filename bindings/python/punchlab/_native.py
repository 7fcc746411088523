"""Loads the extension punchlab._core, with a message that says how to build it."""

_core = None


def core():
    global _core
    if _core is None:
        try:
            from . import _core as module
        except ImportError as e:
            raise ImportError(
                f"punchlab's C++ extension (punchlab._core) cannot be loaded: {e}. Build it "
                "with `cmake --build build --target punchlab_core` (needs Debian's pybind11-dev "
                "and python3-dev) and put <build>/python on PYTHONPATH.") from e
        _core = module
    return _core


def reexport(namespace: dict, source) -> None:
    """Copies the public names of a _core (sub)module into a module's namespace."""
    names = [n for n in dir(source) if not n.startswith("_")]
    for n in names:
        namespace[n] = getattr(source, n)
    namespace["__all__"] = names
