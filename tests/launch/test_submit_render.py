"""`herolion submit`: the rendered sbatch script, JobSet YAML and gcloud command lines
(parsed, not only string-compared), the injection guarantee, and bad input → exit 2."""
import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from herolion.launch import cli, distributed
from herolion.launch.backends import gke, local, slurm, tpu
from herolion.launch.backends.job import Job, train_argv

CONFIG = str(Path("herolion/configs/demo.py").absolute())
EVIL = "--config.note=$(touch /tmp/herolion_pwned); \"x' `id`"


def job(**kw):
    base = dict(cluster="slurm", config=CONFIG + ":steps=20", workdir="/shared/run 1",
                overrides=("--config.lr=0.001", EVIL), name="demo", nodes=2,
                processes_per_node=4, python="/opt/venv/bin/python", cwd="/home/u/herolion")
    base.update(kw)
    return Job(**base)


def test_sbatch_script_key_lines_and_bash_syntax(tmp_path):
    script = slurm.render(job(gpus_per_node=8, time="02:00:00", partition="gpu",
                              account="proj", max_restarts=5))
    lines = script.splitlines()
    directives = [line for line in lines if line.startswith("#SBATCH")]
    assert directives == [
        "#SBATCH --job-name=demo", "#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=4",
        "#SBATCH --gpus-per-node=8", "#SBATCH --time=02:00:00", "#SBATCH --partition=gpu",
        "#SBATCH --account=proj", "#SBATCH --requeue", "#SBATCH --signal=TERM@120",
        "#SBATCH --open-mode=append", '#SBATCH --output="/shared/run 1/logs/slurm-%j.out"']
    assert lines[0] == "#!/bin/bash"
    srun = next(line for line in lines if line.startswith("srun "))
    assert shlex.split(srun)[2:] == train_argv(job())
    assert 'scontrol requeue "$SLURM_JOB_ID"' in script
    assert "if [ $status -eq 75 ]" in script and '-lt 5 ]' in script
    path = tmp_path / "job.sbatch"
    path.write_text(script)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_sbatch_script_requeues_only_on_75(tmp_path):
    """Run the script's tail with fake srun/scontrol: 75 → requeue, 1 → no requeue."""
    script = slurm.render(job(overrides=()))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit $FAKE_STATUS\n")
    (bin_dir / "scontrol").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/scontrol.log\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    body = script.replace("cd /home/u/herolion", "true")
    for status, requeued in ((75, True), (1, False), (0, False)):
        log = tmp_path / "scontrol.log"
        log.unlink(missing_ok=True)
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_STATUS": str(status),
               "SLURM_JOB_ID": "42"}
        proc = subprocess.run(["bash", "-c", body], env=env, capture_output=True, text=True)
        assert proc.returncode == status
        assert log.exists() == requeued
        if requeued:
            assert log.read_text().split() == ["requeue", "42"]
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_STATUS": "75", "SLURM_JOB_ID": "42",
           "SLURM_RESTART_COUNT": "3"}
    (tmp_path / "scontrol.log").unlink(missing_ok=True)
    subprocess.run(["bash", "-c", body], env=env, capture_output=True)
    assert not (tmp_path / "scontrol.log").exists(), "requeue limit ignored"


def test_injection_arrives_unchanged_and_runs_nothing(tmp_path):
    """The sbatch script and the TPU command are shell: run their quoted train command
    with `printf` in place of python and compare the words that arrive."""
    marker = Path("/tmp/herolion_pwned")
    marker.unlink(missing_ok=True)
    j = job(python="printf", cwd=str(tmp_path))
    srun = next(l for l in slurm.render(j).splitlines() if l.startswith("srun "))
    command = srun.replace("srun --kill-on-bad-exit=0 printf", "printf '%s\\n'", 1)
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True).stdout
    assert out.splitlines() == train_argv(j)[1:]
    remote = tpu.remote_command(j).replace(shlex.join(train_argv(j)), "printf '%s\\n' " +
                            shlex.join(train_argv(j)[1:]))
    out = subprocess.run(["bash", "-c", remote], capture_output=True, text=True).stdout
    assert out.splitlines() == train_argv(j)[1:]
    assert not marker.exists()
    # the JobSet carries an argv list, no shell: the value round-trips through YAML
    command = yaml.safe_load(gke.render(job(image="img")))["spec"]["replicatedJobs"][0][
        "template"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[-1] == EVIL


def test_jobset_manifest_fields():
    doc = yaml.safe_load(gke.render(job(cluster="gke", image="gcr.io/p/herolion:1", nodes=4,
                                        processes_per_node=1, gpus_per_node=8, python="python3",
                                        max_restarts=7)))
    assert doc["apiVersion"].startswith("jobset.x-k8s.io/") and doc["kind"] == "JobSet"
    assert doc["metadata"]["name"] == "demo"
    spec = doc["spec"]
    assert spec["network"]["enableDNSHostnames"] is True
    assert spec["failurePolicy"]["maxRestarts"] == 7
    rules = {r["action"]: r["onJobFailureReasons"] for r in spec["failurePolicy"]["rules"]}
    assert rules == {"RestartJobSet": ["PodFailurePolicy"], "FailJobSet": ["BackoffLimitExceeded"]}
    (rjob,) = spec["replicatedJobs"]
    js = rjob["template"]["spec"]
    assert (js["completionMode"], js["parallelism"], js["completions"]) == ("Indexed", 4, 4)
    assert js["backoffLimit"] == 0
    exit_rule = js["podFailurePolicy"]["rules"][0]
    assert exit_rule["action"] == "FailJob" and exit_rule["onExitCodes"]["values"] == [75]
    pod = js["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"][:4] == ["python3", "-m", "herolion.launch.cli", "train"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 8
    env = {e["name"]: e for e in container["env"]}
    assert env["HEROLION_COORDINATOR"]["value"] == "demo-workers-0-0.demo:8476"
    assert env["HEROLION_NUM_PROCESSES"]["value"] == "4"
    field = env["HEROLION_PROCESS_ID"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert "job-completion-index" in field


def test_tpu_command_lines():
    j = job(cluster="tpu", tpu_name="my-tpu", zone="us-central2-b",
            accelerator_type="v4-32", queued=True, python="python3")
    create, ssh = [shlex.split(line) for line in tpu.render(j).splitlines()]
    assert create[:5] == ["gcloud", "compute", "tpus", "queued-resources", "create"]
    assert {"--node-id=my-tpu", "--zone=us-central2-b", "--accelerator-type=v4-32"} <= set(create)
    assert ssh[:6] == ["gcloud", "compute", "tpus", "tpu-vm", "ssh", "my-tpu"]
    assert "--worker=all" in ssh and "--zone=us-central2-b" in ssh
    command = next(a for a in ssh if a.startswith("--command="))[len("--command="):]
    assert subprocess.run(["bash", "-n", "-c", command]).returncode == 0
    assert shlex.join(train_argv(j)) in command
    assert len(tpu.render(job(cluster="tpu", tpu_name="t", zone="z")).splitlines()) == 1


def test_local_process_environments():
    j = job(cluster="local", nodes=1, processes_per_node=3, devices_per_process=2,
            heartbeat_timeout=20)
    envs = local.process_envs(j, 1234, {"XLA_FLAGS": "--xla_force_host_platform_device_count=8 "
                                                     "--other", "KEEP": "1"})
    assert [e["HEROLION_PROCESS_ID"] for e in envs] == ["0", "1", "2"]
    assert {e["HEROLION_COORDINATOR"] for e in envs} == {"127.0.0.1:1234"}
    assert {e["HEROLION_NUM_PROCESSES"] for e in envs} == {"3"}
    assert envs[0]["XLA_FLAGS"] == "--other --xla_force_host_platform_device_count=2"
    assert envs[0]["HEROLION_HEARTBEAT_TIMEOUT"] == "20" and envs[0]["KEEP"] == "1"
    assert local.combined_status([0, 75, 0]) == 75
    assert local.combined_status([0, 0]) == 0 and local.combined_status([143, 75]) == 143


def test_local_processes_split_the_gpus():
    """Each local process drives its own slice of --gpus-per-node (JAX's local_device_ids);
    without GPUs nothing is set and JAX keeps its defaults."""
    j = job(cluster="local", nodes=1, processes_per_node=2, gpus_per_node=4)
    envs = local.process_envs(j, 1234, {})
    assert [e[distributed.ENV_LOCAL_DEVICE_IDS] for e in envs] == ["0,1", "2,3"]
    specs = [distributed.resolve(argparse.Namespace(), e) for e in envs]
    assert [s.kwargs()["local_device_ids"] for s in specs] == [[0, 1], [2, 3]]
    plain = local.process_envs(job(cluster="local", nodes=1, processes_per_node=2), 1234, {})
    assert all(distributed.ENV_LOCAL_DEVICE_IDS not in e for e in plain)


def test_slurm_tasks_split_the_node_gpus():
    """JAX's SLURM detection alone gives each task one GPU (a 1-task-per-node job would use
    one of 8): the script exports GPUs per task and each task takes its SLURM_LOCALID's."""
    for per_node, gpus, want in [(1, 8, [list(range(8))]), (4, 8, [[0, 1], [2, 3], [4, 5],
                                                                     [6, 7]])]:
        script = slurm.render(job(processes_per_node=per_node, gpus_per_node=gpus))
        export = [line for line in script.splitlines()
                  if line.startswith(f"export {distributed.ENV_GPUS_PER_PROCESS}=")]
        assert len(export) == 1
        name, value = export[0][len("export "):].split("=")
        got = []
        for local_id in range(per_node):
            env = {name: value, "SLURM_NTASKS": str(2 * per_node), "SLURM_PROCID": "0",
                   "SLURM_STEP_NODELIST": "n[1-2]", "SLURM_LOCALID": str(local_id)}
            got.append(distributed.resolve(argparse.Namespace(), env).kwargs()["local_device_ids"])
        assert got == want
    assert distributed.ENV_GPUS_PER_PROCESS not in slurm.render(job())


def run_main(*argv, capsys):
    status = cli.main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


BASE = ["--config", "herolion/configs/demo.py", "--workdir"]


@pytest.mark.parametrize("extra, field", [
    (["--cluster", "lsf"], "--cluster"),
    (["--cluster", "slurm", "--nodes", "0"], "--nodes"),
    (["--num-processes", "0"], "--num-processes"),
    (["--cluster", "slurm", "--nodes", "2", "--num-processes", "3"], "--num-processes"),
    (["--num-processes", "2", "--nodes", "2"], "--nodes"),
    (["--cluster", "slurm", "--time", "soon"], "--time"),
    (["--cluster", "slurm", "--partition", "a b"], "--partition"),
    (["--cluster", "gke"], "--image"),
    (["--cluster", "tpu"], "--tpu-name"),
    (["--name", "Bad_Name"], "--name"),
    (["--num-processes", "4", "--gpus-per-node", "6"], "--gpus-per-node"),
    (["--cluster", "gke", "--image", "i", "--processes-per-node", "8"],
     "--processes-per-node"),
    (["--cluster", "tpu", "--tpu-name", "t", "--zone", "z", "--num-processes", "2"],
     "--processes-per-node"),
    (["--cluster", "slurm", "--processes-per-node", "2", "--gpus-per-node", "3"],
     "--gpus-per-node"),
])
def test_bad_input_is_one_line_naming_the_flag(extra, field, tmp_path, capsys):
    status, out, err = run_main("submit", *BASE, str(tmp_path), "--dry-run", *extra,
                                capsys=capsys)
    assert status == 2
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith(f"herolion submit: error: {field}:"), err


def test_unknown_override_fails_before_submitting(tmp_path, capsys):
    status, _, err = run_main("submit", *BASE, str(tmp_path), "--dry-run", "--config.nope=1",
                              capsys=capsys)
    assert status == 2 and err.startswith("herolion submit: error: --config.nope:"), err


def test_config_that_does_not_load(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    status, _, err = run_main("submit", "--config", str(broken), "--workdir", str(tmp_path),
                              capsys=capsys)
    assert status == 2 and "--config:" in err and "boom" in err


@pytest.mark.parametrize("cluster, tool, extra", [
    ("slurm", "sbatch", []), ("gke", "kubectl", ["--image", "img"]),
    ("tpu", "gcloud", ["--tpu-name", "t", "--zone", "z"])])
def test_missing_cluster_tool_is_a_clear_error(cluster, tool, extra, tmp_path, capsys,
                                               monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))     # no tools at all
    status, _, err = run_main("submit", "--cluster", cluster, *BASE, str(tmp_path), *extra,
                              capsys=capsys)
    assert status == 2 and f"`{tool}`" in err
    assert err.startswith("herolion submit: error: --cluster:")
    status, out, _ = run_main("submit", "--cluster", cluster, *BASE, str(tmp_path), *extra,
                              "--dry-run", capsys=capsys)
    assert status == 0 and out


def test_dry_run_prints_each_artefact(tmp_path, capsys):
    status, out, _ = run_main("submit", "--cluster", "slurm", *BASE, str(tmp_path), "--nodes", "2",
                              "--processes-per-node", "2", "--dry-run", "--config.lr=0.5",
                              capsys=capsys)
    assert status == 0 and "#SBATCH --nodes=2" in out and "--config.lr=0.5" in out
    assert "#SBATCH --ntasks-per-node=2" in out
    status, out, _ = run_main("submit", "--cluster", "slurm", *BASE, str(tmp_path), "--nodes", "2",
                              "--num-processes", "8", "--dry-run", capsys=capsys)
    assert status == 0 and "#SBATCH --ntasks-per-node=4" in out
    assert str(Path(sys.executable)) in out
