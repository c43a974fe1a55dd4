"""`herolion plan` end to end (in-process CLI): table, JSON, and one-line errors (exit 2)."""
import json

import pytest

from herolion.launch import cli

DEMO = "herolion/configs/demo.py:width=32,depth=1,batch=64"


def plan(capsys, *args):
    status = cli.main(["plan", "--config", DEMO, "--image-size", "32", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_table_says_what_fits(capsys):
    status, out, err = plan(capsys, "--mesh", "data=2,fsdp=4", "--hbm", "80GB",
                            "--devices-per-host", "4")
    assert status == 0, err
    assert "mesh data=2,fsdp=4 (8 devices, 2 hosts)" in out
    for item in ("params", "grads", "gathered", "activations", "optimizer state",
                 "config (lion)", "fits 80 GB?"):
        assert item in out
    assert " yes" in out and " NO" not in out
    status, out, _ = plan(capsys, "--mesh", "data=8", "--hbm", "1kB")
    assert status == 0 and " NO" in out and " yes" not in out


def test_json_all_optimizers_on_a_mesh_bigger_than_the_machine(capsys):
    status, out, err = plan(capsys, "--mesh", "data=4,fsdp=16", "--optimizer", "all",
                            "--json", "--config.input.batch_size=128", "--hbm", "16GiB")
    assert status == 0, err
    result = json.loads(out)
    assert result["devices"] == 64 and result["hbm"] == 16 * 2**30
    assert result["batch"] == {"global": 128, "per_device": 2, "micro": 2}
    n = result["param_count"]
    opt = result["layouts"]["no_fsdp"]["opt"]
    assert set(opt) == {"config", "lion", "lion_bf16", "adamw", "adafactorw", "sgdm"}
    assert abs(opt["lion"] - 4 * n) <= 16 and abs(opt["adamw"] - 8 * n) <= 16
    fsdp, replicated = result["layouts"]["fsdp"], result["layouts"]["no_fsdp"]
    assert fsdp["params"] < replicated["params"] == 4 * n
    assert fsdp["activations"] == replicated["activations"] > 0
    assert all(result["fits"]["fsdp"].values())


@pytest.mark.parametrize("args,flag", [
    (["--mesh", "data=x"], "--mesh:"),
    (["--mesh", "data=2,fsdp=-1"], "--mesh:"),
    (["--mesh", "data=8", "--hbm", "80XB"], "--hbm:"),
    (["--mesh", "data=8", "--optimizer", "adam"], "--optimizer:"),
    (["--mesh", "data=8", "--devices-per-host", "3"], "--devices-per-host:"),
    (["--mesh", "data=6"], "config.input.batch_size:"),
    (["--mesh", "data=8", "--config.model.width=wide"], "--config.model.width:"),
    (["--mesh", "data=8", "--config.totl_steps=5"], "--config.totl_steps:"),
])
def test_bad_input_is_one_line_exit_2(capsys, args, flag):
    status, out, err = plan(capsys, *args)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"herolion plan: error: {flag}"), err


def test_bad_config_file_and_missing_image_size(capsys):
    assert cli.main(["plan", "--config", "nope.py", "--mesh", "data=8"]) == 2
    assert capsys.readouterr().err.startswith("herolion plan: error: --config: no such file")
    assert cli.main(["plan", "--config", DEMO, "--mesh", "data=8"]) == 2
    assert capsys.readouterr().err.startswith("herolion plan: error: --image-size:")


def test_console_script_exit_status():
    from tests.launch.cli_helpers import run_cli
    done = run_cli("plan", "--config", DEMO, "--image-size", "32", "--mesh", "data=1",
                   "--hbm", "80 gigs", timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "herolion plan: error: --hbm: expected a size such as 80GB, 80GiB or 16G, "
        "got '80 gigs'"]


def test_lit_plan_has_state_for_the_text_tower_only(capsys):
    """The paper's LiT-B/32-B (2 layers per tower, to trace fast): the locked image tower
    costs params and a forward, no optimizer state, no gradient."""
    status = cli.main(["plan", "--config", "herolion/configs/lit.py:variant=B/32-B",
                       "--config.model.image.depth=2", "--config.model.text.depth=2",
                       "--mesh", "data=8,fsdp=32", "--json", "--optimizer", "all"])
    out, err = capsys.readouterr()
    assert status == 0, err
    result = json.loads(out)
    import jax
    from herolion import models, optim
    text = models.create("text", variant="B", depth=2, vocab_size=32_000, max_len=16,
                         num_classes=768)
    shapes = jax.eval_shape(text.init, jax.random.PRNGKey(0), jax.numpy.zeros((1, 16), "int32"))
    trainable = optim.param_count(shapes["params"]) + 1          # + the temperature
    opt = result["layouts"]["no_fsdp"]["opt"]
    assert abs(opt["lion"] - 4 * trainable) <= 16 and abs(opt["adamw"] - 8 * trainable) <= 16
    assert result["param_count"] > 14_000_000 + trainable         # the image tower is in it
    assert result["layouts"]["no_fsdp"]["grads"] == 4 * trainable
