"""Preprocessing ops: small functions on one example (a dict of numpy values).

Why this shape: a config names ops in a big_vision-style string such as
``decode|inception_crop(32)|flip_lr|value_range(-1,1)|onehot(10)``. Each name maps
to a *factory* (registered with :func:`registry.register`) whose arguments come
from the string and which returns ``op(example, rng) -> new example``. Ops never
modify their input dict; random ops draw only from ``rng`` (a numpy Generator the
pipeline seeds per example), so results are reproducible and resumable.
"""
from herolion.data.ops import image, keys, labels, randaugment, registry, text  # noqa: F401  (register)

get = registry.get
names = registry.names
