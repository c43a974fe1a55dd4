"""Byte sizes as people write them (``80GB``, ``80GiB``, ``16G``) and back.

Why both: accelerator datasheets say "80 GB" meaning 10^9 bytes on some and 2^30 on
others; ``GB``/``G`` are decimal here, ``GiB``/``Gi`` binary, so the user says which.
"""
import re

from herolion.errors import ConfigError

_UNITS = {"": 1, "b": 1,
          "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12,
          "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30,
          "ti": 2**40, "tib": 2**40}
_PATTERN = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*")


def parse_bytes(text, field: str = "--hbm") -> int:
    """``'80GB'`` -> 80_000_000_000; ``'80GiB'`` -> 80 * 2**30; a bare number is bytes."""
    match = _PATTERN.fullmatch(str(text))
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS:
        raise ConfigError(f"{field}: expected a size such as 80GB, 80GiB or 16G, got {text!r}")
    value = float(match.group(1)) * _UNITS[unit]
    if value <= 0:
        raise ConfigError(f"{field}: must be > 0, got {text!r}")
    return int(value)


def fmt_bytes(n: float) -> str:
    """Decimal units, 3 significant figures: ``12.3 GB``."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"
