"""A checkpoint that cannot be written stops the run with one line and exit 74; the
committed steps are untouched and a restart resumes from the newest of them. The I/O
error is real: the kernel's file-size limit (RLIMIT_FSIZE, ``ulimit -f``) makes
tensorstore's write fail with EFBIG, as a full disk would."""
import subprocess

from herolion.checkpoints import SAVE_FAILED_EXIT_CODE, Checkpointer
from herolion.checkpoints.save_error import SaveError, io_reason
from tests.launch.cli_helpers import HEROLION, cli_env, run_cli
from tests.launch.test_bad_input import spec, tree_digest

LIMIT_KIB = 8   # per file: the tiny run's logs (< 2 KB) fit, its params do not

# bash sets the limit and ignores SIGXFSZ (so write() fails with EFBIG instead of killing
# the process), then execs herolion: no Python runs between fork and exec.
LIMITED = ["bash", "-c", f'trap "" XFSZ; ulimit -f {LIMIT_KIB}; exec "$0" "$@"']


def test_failed_save_is_one_line_keeps_the_last_good_step_and_resumes(digits_dir, tmp_path):
    workdir = tmp_path / "run"
    flags = ["--workdir", workdir, "--config.ckpt_steps=5", "--config.log_steps=5"]
    first = run_cli("train", "--config", spec(digits_dir, steps=10), *flags)
    assert first.returncode == 0, first.stderr
    good = tree_digest(workdir)

    env = cli_env()
    env.pop("JAX_COMPILATION_CACHE_DIR")   # its files could hit the limit too
    failed = subprocess.run([*LIMITED, str(HEROLION), "train", "--config",
                             spec(digits_dir, steps=20), *map(str, flags)],
                            capture_output=True, text=True, timeout=600, env=env)
    assert failed.returncode == SAVE_FAILED_EXIT_CODE, failed.stderr[-2000:]
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr[-3000:]   # orbax's re-raised thread logs dropped
    last = lines[0]
    assert last.startswith("herolion train: checkpoint step 15 could not be written to "
                           f"{workdir / 'checkpoints'} (File too large (errno 27)); "
                           "the newest complete checkpoint is step 10"), last
    def steps(digest):   # the committed steps, byte for byte (config.json is the new run's)
        return {k: v for k, v in digest.items()
                if k.startswith("checkpoints") and "orbax-checkpoint-tmp" not in k}
    assert steps(tree_digest(workdir)) == steps(good) and "checkpoints/10" in good
    assert not (workdir / "checkpoints" / "15").exists()

    again = run_cli("train", "--config", spec(digits_dir, steps=20), *flags)
    assert again.returncode == 0, again.stderr
    assert "resumed from step 10" in again.stdout
    with Checkpointer(workdir, read_only=True) as ckpt:
        assert ckpt.all_steps()[-1] == 20
    assert not list((workdir / "checkpoints").glob("*orbax-checkpoint-tmp*"))


def test_the_reason_is_the_os_error_when_tensorstore_names_one():
    err = ValueError('OUT_OF_RANGE: Error writing "w/0" in OCDBT database at local file '
                     '"/x/": Failed writing: "/x/d/ab": Failed to write 909322 bytes to file '
                     "4: No space left on device [os_error_code='28']")
    assert io_reason(err) == "No space left on device (errno 28)"
    assert io_reason(RuntimeError("boom\nmore")) == "RuntimeError: boom"
    try:
        try:
            raise OSError(27, "File too large")
        except OSError as inner:
            raise RuntimeError("orbax: save failed") from inner
    except RuntimeError as outer:
        assert io_reason(outer) == "File too large (errno 27)"
    msg = str(SaveError(7, "/w/checkpoints", err, None))
    assert msg == ("checkpoint step 7 could not be written to /w/checkpoints (No space left "
                   "on device (errno 28)); there is no complete checkpoint yet")
