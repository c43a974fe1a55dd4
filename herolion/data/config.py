"""Reading the ``input`` / ``evals.NAME`` parts of a config (ConfigDict or dict).

Why: both pipelines need the same lookups and the same one-line errors, and the
process layout (``jax.process_index/count``) must be overridable in tests.
"""
from herolion.errors import ConfigError


def get(cfg, key, default=None):
    """``cfg[key]`` for dicts and ConfigDicts, ``default`` when absent or None."""
    if cfg is None:
        return default
    try:
        value = cfg[key]
    except (KeyError, AttributeError, TypeError):
        value = getattr(cfg, key, None) if not isinstance(cfg, dict) else None
    return default if value is None else value


def dataset_name_split(cfg, field, default_split):
    data = get(cfg, "data")
    if data is None:
        raise ConfigError(f"{field}.data: required, e.g. dict(name='digits', split='train')")
    if isinstance(data, str):
        return data, default_split
    name = get(data, "name")
    if not name:
        raise ConfigError(f"{field}.data.name: required (a tfds dataset name)")
    return name, get(data, "split", default_split)


def process_layout(process_index=None, process_count=None):
    """``(index, count)``; defaults to jax's, either may be overridden (tests)."""
    if process_index is None or process_count is None:
        import jax
        process_index = jax.process_index() if process_index is None else process_index
        process_count = jax.process_count() if process_count is None else process_count
    if not 0 <= process_index < process_count:
        raise ConfigError(f"process_index: {process_index} not in 0..{process_count - 1}")
    return int(process_index), int(process_count)


def per_process_batch_size(global_batch_size, process_count, field="input.batch_size"):
    """The global batch split evenly over processes; an error if it does not divide."""
    if global_batch_size is None:
        raise ConfigError(f"{field}: required (the global batch size)")
    if int(global_batch_size) != global_batch_size or global_batch_size < 1:
        raise ConfigError(f"{field}: must be a positive integer, got {global_batch_size!r}")
    if global_batch_size % process_count:
        raise ConfigError(f"{field}: {global_batch_size} is not divisible by the process count "
                          f"{process_count}")
    return int(global_batch_size) // process_count
