"""Where checkpoints live, and turning bad paths into one-line ``ConfigError``s.

A run's checkpoints are an orbax ``CheckpointManager`` directory at
``WORKDIR/checkpoints``; each step is ``WORKDIR/checkpoints/<step>/<item>``. Tools accept
any of those levels (workdir, checkpoints dir, step dir), so the resolution lives here
once. Paths are checked *before* orbax sees them: orbax's own errors for a file where a
directory should be (or a read-only disk) are long tracebacks that do not name the
path the user typed.
"""
import os
import pathlib
import shutil

from herolion.errors import ConfigError

CHECKPOINTS_DIRNAME = "checkpoints"
# orbax writes a step to "<step>.orbax-checkpoint-tmp" and renames it when complete.
TMP_MARKER = ".orbax-checkpoint-tmp"


def checkpoints_dir(workdir) -> pathlib.Path:
    """``WORKDIR/checkpoints``, absolute: orbax's OCDBT store rejects relative paths, and
    ``--workdir runs/x`` is what users type."""
    return pathlib.Path(workdir).expanduser().absolute() / CHECKPOINTS_DIRNAME


def writable_dir(path, label: str = "workdir") -> pathlib.Path:
    """Create ``path`` (and its parents) if needed and check it is a writable directory;
    otherwise a one-line ``ConfigError`` "LABEL PATH: why"."""
    path = pathlib.Path(path)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise ConfigError(f"{label} {p}: exists and is not a directory")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{label} {path}: cannot create it ({err.strerror or err})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{label} {path}: not writable")
    return path


def prepare_writable(workdir) -> pathlib.Path:
    """Create ``WORKDIR/checkpoints`` if needed and check it is a writable directory."""
    return writable_dir(checkpoints_dir(workdir))


def check_readable(workdir) -> pathlib.Path:
    """The checkpoints dir of a run that must already exist (read-only use)."""
    root = checkpoints_dir(workdir)
    if not root.is_dir():
        raise ConfigError(f"workdir {workdir}: has no {CHECKPOINTS_DIRNAME}/ directory")
    return root


def is_incomplete(path: pathlib.Path) -> bool:
    return TMP_MARKER in path.name


def remove_incomplete(root: pathlib.Path) -> list[pathlib.Path]:
    """Delete steps an interrupted save left behind; returns what was removed.

    Only names carrying orbax's tmp marker are touched, so a committed step is never
    deleted here, whatever its contents.
    """
    removed = []
    if not root.is_dir():
        return removed
    for path in sorted(root.iterdir()):
        if is_incomplete(path) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def committed_steps(root: pathlib.Path) -> list[int]:
    """Step numbers of the committed step directories (plain integer names), ascending."""
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir()
                  if p.is_dir() and p.name.isdigit() and not is_incomplete(p))


def resolve_step_dir(path, step: int | None = None) -> pathlib.Path:
    """A step directory from a workdir, a checkpoints dir or a step dir.

    ``step=None`` picks the newest committed step. Raises ``ConfigError`` naming the path.
    The result is absolute (orbax reads only absolute paths).
    """
    path = pathlib.Path(path).expanduser().absolute()
    if not path.exists():
        raise ConfigError(f"checkpoint {path}: does not exist")
    if not path.is_dir():
        raise ConfigError(f"checkpoint {path}: is not a directory")
    if (path / "params").is_dir() and step is None:
        return path  # already a step directory
    root = path / CHECKPOINTS_DIRNAME if (path / CHECKPOINTS_DIRNAME).is_dir() else path
    steps = committed_steps(root)
    if not steps:
        raise ConfigError(f"checkpoint {path}: no complete checkpoint steps found")
    if step is None:
        step = steps[-1]
    if step not in steps:
        raise ConfigError(f"checkpoint {root}: no step {step} (have {_brief(steps)})")
    return root / str(step)


def _brief(steps: list[int]) -> str:
    shown = ", ".join(map(str, steps[-8:]))
    return shown if len(steps) <= 8 else f"..., {shown}"
