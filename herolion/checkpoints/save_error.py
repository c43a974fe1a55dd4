"""A checkpoint that could not be written: one line, and the last good step named.

Why a type of its own: a full disk or a dead filesystem is not bad input (exit 2) and
not a divergence (exit 3); the run stops with ``SAVE_FAILED_EXIT_CODE`` (74,
``EX_IOERR`` from sysexits.h) and a line saying which step failed, why, and which
committed step a restart will resume from. The failed step is an orbax tmp directory,
never committed, so it cannot replace a good checkpoint; the next start removes it.
"""
import re

from herolion.checkpoints.oneline import reason

SAVE_FAILED_EXIT_CODE = 74

# tensorstore's I/O errors end with the OS's words: '...: File too large [os_error_code='27']'
_OS_ERROR = re.compile(r":\s*([^:\[\]]+?)\s*\[os_error_code='(\d+)'\]")


def io_reason(err: BaseException) -> str:
    """The OS error behind an orbax/tensorstore failure ('File too large (errno 27)'),
    looked for along the exception's causes; else the exception's first line."""
    seen, e = set(), err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno and e.strerror:
            return f"{e.strerror} (errno {e.errno})"
        found = _OS_ERROR.findall(str(e))
        if found:
            words, code = found[-1]
            return f"{words} (errno {code})"
        e = e.__cause__ or e.__context__
    return reason(err)


class SaveError(RuntimeError):
    """Step ``step`` could not be written; ``last_good`` is the newest committed step."""

    def __init__(self, step, directory, err: BaseException, last_good):
        self.step, self.last_good = step, last_good
        resume = (f"the newest complete checkpoint is step {last_good}" if last_good is not None
                  else "there is no complete checkpoint yet")
        where = f"step {step}" if step is not None else "a step"
        super().__init__(f"checkpoint {where} could not be written to {directory} "
                         f"({io_reason(err)}); {resume}")
