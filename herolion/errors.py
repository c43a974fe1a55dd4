"""The one error type for bad user input: its message names the field or file at fault."""


class ConfigError(ValueError):
    """Bad input. ``str(err)`` is one line such as ``config.lr: must be >= 0, got -1``.

    The CLI prints it on stderr and exits with status 2; nothing on disk is touched.
    """
