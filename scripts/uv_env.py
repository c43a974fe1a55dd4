"""Print ``export UV_...=...`` lines that make ``uv pip install`` use pip's configuration.

Why: uv installs the same set of wheels as pip several times faster (the test setup's
install went from ~90 s to ~12 s), but it does not read pip.conf or ``PIP_*`` variables.
This translates the settings that decide *what* gets installed — index URLs, find-links,
constraints — and the CA bundle, so both installers resolve the same versions. Reads
``pip config list`` (files and environment); paths that do not exist are dropped, as pip
ignores them with a warning.

    eval "$(.venv/bin/python scripts/uv_env.py)"
"""
import os
import shlex
import subprocess
import sys

# pip setting -> (uv variable, joins several values with)
MAPPING = {
    "index-url": ("UV_DEFAULT_INDEX", None),
    "extra-index-url": ("UV_INDEX", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "constraint": ("UV_CONSTRAINT", " "),
    "cert": ("SSL_CERT_FILE", None),
}


def pip_settings(listing: str) -> dict:
    """``{setting: value}`` from ``pip config list``; environment entries win over files."""
    found, from_env = {}, {}
    for line in listing.splitlines():
        key, sep, value = line.partition("=")
        if not sep or "." not in key:
            continue
        scope, name = key.rsplit(".", 1)
        value = value.strip().strip("'\"")
        (from_env if scope == ":env:" else found)[name] = value
    return {**found, **from_env}


def usable(value: str) -> bool:
    """A local path (or file:// URL) that does not exist is skipped, as pip skips it."""
    path = value[len("file://"):] if value.startswith("file://") else value
    if "://" in value and not value.startswith("file://"):
        return True
    return os.path.exists(path)


def exports(settings: dict, environ=os.environ) -> list[str]:
    lines = []
    for name, (variable, joiner) in MAPPING.items():
        if name not in settings or variable in environ:
            continue
        values = [v for v in settings[name].split() if usable(v)]
        if values:
            value = joiner.join(values) if joiner else values[0]
            lines.append(f"export {variable}={shlex.quote(value)}")
    if "cert" in settings and "SSL_CERT_FILE" not in environ:
        lines.append("export UV_NATIVE_TLS=1")
    if any(line.startswith(("export UV_INDEX=", "export UV_DEFAULT_INDEX=")) for line in lines):
        # pip takes the highest version across all indexes; uv's default takes the first
        # index that has the package (older versions here).
        lines.append("export UV_INDEX_STRATEGY=unsafe-best-match")
    return lines


def main():
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                             capture_output=True, text=True).stdout
    print("\n".join(exports(pip_settings(listing))))


if __name__ == "__main__":
    main()
