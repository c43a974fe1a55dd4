"""Name -> op factory table that the preprocessing spec parser looks ops up in."""
_FACTORIES = {}


def register(name):
    """Decorator: registers ``factory(*args, **kwargs) -> op(example, rng)`` as ``name``."""
    def wrap(factory):
        if name in _FACTORIES:
            raise ValueError(f"preprocessing op {name!r} registered twice")
        _FACTORIES[name] = factory
        return factory
    return wrap


def get(name):
    """The factory for ``name``, or None."""
    return _FACTORIES.get(name)


def names():
    return sorted(_FACTORIES)
