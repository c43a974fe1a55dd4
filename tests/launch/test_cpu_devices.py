"""`herolion train --cpu-devices`: the batch split over single-threaded CPU devices (the
real 2-device run, compared with the straight run, is in test_train_cli.py)."""
import jax
import pytest

from herolion.errors import ConfigError
from herolion.launch import cli, cpu_devices


@pytest.mark.parametrize("batch,cores,processes,want", [
    (128, 2, 1, 2), (128, 6, 1, 4), (6, 4, 1, 3), (7, 4, 1, 1), (128, 6, 2, 4), (96, 8, 4, 8),
    (30, 1, 1, 1)])
def test_auto_is_the_most_devices_that_split_the_batch(batch, cores, processes, want):
    assert cpu_devices.device_count("auto", batch, cores, processes) == want
    assert batch % (processes * want) == 0


@pytest.mark.parametrize("spec", ["0", "-2", "two", "", "1.5"])
def test_bad_count_is_one_line(spec):
    with pytest.raises(ConfigError, match="--cpu-devices: "):
        cpu_devices.device_count(spec, 128, 2)


def test_flags_replace_a_device_count_and_keep_the_rest():
    flags = cpu_devices.xla_flags("--xla_dump_to=/x --xla_force_host_platform_device_count=8 "
                                  "--xla_cpu_multi_thread_eigen=true", 3)
    assert flags.split() == ["--xla_dump_to=/x", "--xla_force_host_platform_device_count=3",
                             "--xla_cpu_multi_thread_eigen=false"]
    # one device: XLA's default (all cores on that device), not a single thread
    assert cpu_devices.xla_flags("--xla_force_host_platform_device_count=8", 1) == ""


def test_refused_once_a_backend_exists():
    jax.devices()
    environ = {"XLA_FLAGS": "--foo"}
    with pytest.raises(ConfigError, match="backend already exists"):
        cpu_devices.use("2", 128, environ=environ)
    assert environ == {"XLA_FLAGS": "--foo"}


def test_cli_bad_count_exits_2_before_writing(capsys, tmp_path):
    status = cli.main(["train", "--config", "herolion/configs/demo.py", "--workdir",
                       str(tmp_path / "run"), "--cpu-devices", "many"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and "--cpu-devices: 'many'" in lines[0], lines
    assert not (tmp_path / "run").exists()

