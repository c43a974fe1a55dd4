"""Parse a big_vision-style preprocessing spec into one function on an example.

Why a string: configs stay data (``"decode|inception_crop(224)|flip_lr|value_range(-1, 1)"``)
and read like big_vision's. A spec is ops joined by ``|`` (a list of such strings,
or of callables ``fn(example, rng)``, also works); each op is ``name`` or
``name(args, key=value)`` with Python literal arguments. Unknown names fail at
parse time with the closest known name.
"""
import ast
import difflib
import inspect

import numpy as np

from herolion.errors import ConfigError


def split_ops(spec):
    """Splits at ``|`` outside quotes and brackets."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in spec:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_op(text, field="input.pp"):
    """``'inception_crop(224, area_min=8)'`` -> ``('inception_crop', (224,), {'area_min': 8})``."""
    try:
        node = ast.parse(text, mode="eval").body
        if isinstance(node, ast.Name):
            return node.id, (), {}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = tuple(ast.literal_eval(a) for a in node.args)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            if None in kwargs:
                raise ValueError("**kwargs")
            return node.func.id, args, kwargs
    except (SyntaxError, ValueError):
        pass
    raise ConfigError(f"{field}: cannot parse preprocessing op {text!r} "
                      "(write name or name(literal args, key=literal))")


def _factory(name, field):
    from herolion.data import ops
    factory = ops.get(name)
    if factory is None:
        close = difflib.get_close_matches(name, ops.names(), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(ops.names())})"
        raise ConfigError(f"{field}: unknown preprocessing op {name!r}{hint}")
    return factory


def build_op(text, *, field="input.pp", data_dir=None):
    name, args, kwargs = parse_op(text, field)
    factory = _factory(name, field)
    if "data_dir" in inspect.signature(factory).parameters:
        kwargs.setdefault("data_dir", data_dir)
    try:
        return factory(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{field}: {text}: {err}") from None


# Ops whose output depends only on their input (no rng draws): what ``input.cache`` may
# compute once. Callables in a spec count as random (unknown).
DETERMINISTIC_OPS = frozenset({
    "decode", "resize", "resize_small", "central_crop", "value_range", "onehot",
    "keep", "drop", "copy", "tokenize"})


class Preprocess:
    """A parsed spec: ``pp(example, rng=None) -> example``; picklable for grain workers."""

    def __init__(self, ops, spec, names=None):
        self.ops = tuple(ops)
        self.spec = spec
        self.names = tuple(names) if names is not None else (None,) * len(self.ops)

    def __call__(self, example, rng=None):
        rng = np.random.default_rng(0) if rng is None else rng
        example = dict(example)
        for op in self.ops:
            example = op(example, rng)
        return example

    def split_deterministic(self):
        """``(head, tail)``: ``head`` is the leading run of ops that draw no random numbers
        (see :data:`DETERMINISTIC_OPS`), ``tail`` the rest; ``tail(head(x, r), r)`` equals
        ``self(x, r)``."""
        n = 0
        while n < len(self.ops) and self.names[n] in DETERMINISTIC_OPS:
            n += 1
        head = Preprocess(self.ops[:n], "|".join(self.names[:n]), self.names[:n])
        tail = Preprocess(self.ops[n:], "|".join(str(x) for x in self.names[n:]),
                          self.names[n:])
        return head, tail

    def __repr__(self):
        return f"Preprocess({self.spec!r})"


def build(spec, *, field="input.pp", data_dir=None):
    """A :class:`Preprocess` from a spec string, a list of strings/callables, or None."""
    if spec is None or spec == "":
        return Preprocess([], "")
    items = [spec] if isinstance(spec, str) else list(spec)
    ops, names = [], []
    for item in items:
        if callable(item):
            ops.append(item)
            names.append(None)
        elif isinstance(item, str):
            for text in split_ops(item):
                ops.append(build_op(text, field=field, data_dir=data_dir))
                names.append(parse_op(text, field)[0])
        else:
            raise ConfigError(f"{field}: expected a string or a list of strings, got {item!r}")
    return Preprocess(ops, spec if isinstance(spec, str) else "|".join(map(str, items)), names)
