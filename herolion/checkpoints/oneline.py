"""Exceptions from orbax/tensorstore squeezed into the one line a ``ConfigError`` carries."""


def reason(err: BaseException, limit: int = 200) -> str:
    """``TypeName: first line of the message``, cut to ``limit`` characters."""
    lines = str(err).strip().splitlines()
    text = f"{type(err).__name__}: {lines[0].strip()}" if lines else type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
