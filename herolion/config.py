"""Config files the big_vision way: ``FILE.py[:ARG]`` plus ``--config.a.b=VALUE`` overrides.

A config file defines ``get_config(arg=None) -> ml_collections.ConfigDict``. ``ARG`` is passed
as a string; :func:`parse_arg` turns ``"variant=mu,steps=100,fast"`` into typed values from
the defaults the file declares. Overrides are typed by the field they replace, so
``--config.lr=3e-4`` stays a float and ``--config.lr=abc`` is an error naming the field.
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import os
from pathlib import Path

from herolion.errors import ConfigError


def parse_arg(arg: str | None, **defaults):
    """``"a=1,b=x,flag"`` → ConfigDict typed like ``defaults`` (a bare name means True)."""
    from ml_collections import ConfigDict
    out = ConfigDict(defaults)
    for item in filter(None, (s.strip() for s in (arg or "").split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if key not in defaults:
            raise ConfigError(f"config arg {key!r}: unknown; known: {', '.join(defaults) or 'none'}")
        out[key] = _typed(raw.strip() if sep else "True", defaults[key], f"config arg {key}")
    return out


def load_config(spec: str, overrides=(), known_keys=None):
    """``"path/to/file.py:arg"`` → the file's ``get_config(arg)`` with ``overrides`` applied.

    ``known_keys``: top-level keys an override may add when the file lacks them (the
    trainer's keys); None allows any. Why: a misspelled ``--config.totl_steps`` would
    otherwise be added silently and the run would go ahead with the default."""
    path, _, arg = spec.partition(":")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--config: no such file {path!r}")
    module_name = f"_herolion_config_{abs(hash(str(file.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except ConfigError:
        raise
    except Exception as err:  # a broken config file: say which and why, in one line
        raise ConfigError(f"--config: {path} failed to load: {type(err).__name__}: {err}") from None
    if not hasattr(module, "get_config"):
        raise ConfigError(f"--config: {path} defines no get_config()")
    takes_arg = bool(inspect.signature(module.get_config).parameters)
    if arg and not takes_arg:
        raise ConfigError(f"--config: {path} takes no argument, got {arg!r}")
    try:
        config = module.get_config(arg or None) if takes_arg else module.get_config()
    except ConfigError:
        raise
    except Exception as err:  # e.g. a KeyError on an arg value the file has no entry for
        where = f"get_config({arg!r})" if arg else "get_config()"
        message = (str(err).strip().splitlines() or [""])[0]
        raise ConfigError(f"--config: {path} {where} failed: {type(err).__name__}: "
                          f"{message}") from None
    return apply_overrides(config, overrides, known_keys)


def apply_overrides(config, overrides, known_keys=None):
    """Each override is ``"a.b=VALUE"`` (or ``"--config.a.b=VALUE"``); returns the config.

    A new top-level key must be in ``known_keys`` (when given); new keys inside sections
    (model kwargs, optax options...) are checked by whoever reads them."""
    for raw in overrides:
        text = raw[len("--config."):] if raw.startswith("--config.") else raw
        path, sep, value = text.partition("=")
        field = f"--config.{path}"
        if not sep or not path:
            raise ConfigError(f"{field}: expected --config.FIELD=VALUE, got {raw!r}")
        *parents, leaf = path.split(".")
        node = config
        for i, name in enumerate(parents):
            if name not in node or not hasattr(node[name], "keys"):
                raise ConfigError(f"--config.{'.'.join(parents[:i + 1])}: no such config section")
            node = node[name]
        current = node[leaf] if leaf in node else None
        if leaf not in node and not parents and known_keys is not None \
                and leaf not in known_keys:
            raise ConfigError(f"{field}: no such field (not in the config, and not a key the "
                              "trainer reads; see docs/trainer.md)")
        if leaf not in node and not getattr(node, "is_locked", False):
            node[leaf] = _typed(value, None, field)
            continue
        if leaf not in node:
            raise ConfigError(f"{field}: no such field")
        typed = _typed(value, current, field)
        try:
            node[leaf] = typed
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{field}: {err}") from None
    return config


def _typed(text: str, like, field: str):
    """Parse ``text`` as a literal; strings may be bare. Must match ``like``'s type."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    if like is None or isinstance(like, str) and not isinstance(value, str):
        return text if isinstance(like, str) else value
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{field}: expected a bool, got {text!r}")
    if isinstance(like, int) and not isinstance(like, bool):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{field}: expected an integer, got {text!r}")
    if isinstance(like, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{field}: expected a number, got {text!r}")
    if isinstance(like, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return type(like)(value)
        raise ConfigError(f"{field}: expected a list, got {text!r}")
    if hasattr(like, "keys"):
        raise ConfigError(f"{field}: is a config section; set its fields one by one")
    return value


def save_config(config, workdir) -> Path:
    """Writes the resolved config to ``WORKDIR/config.json`` (atomically)."""
    path = Path(workdir) / "config.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(config.to_json_best_effort(indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def load_saved_config(workdir):
    """The ConfigDict a run saved in ``WORKDIR/config.json``."""
    from ml_collections import ConfigDict
    path = Path(workdir) / "config.json"
    if not path.is_file():
        raise ConfigError(f"--workdir: {workdir} has no config.json (not a herolion run)")
    try:
        return ConfigDict(json.loads(path.read_text()))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON ({err})") from None
