"""scripts/uv_env.py: pip's install settings, translated for uv (see scripts/setup.sh)."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("uv_env", ROOT / "scripts" / "uv_env.py")
uv_env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(uv_env)


def test_settings_from_files_and_environment(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("jax<99\n")
    listing = "\n".join([
        f"global.constraint='{constraints}'",
        "global.extra-index-url='https://a.example/simple file:///no/such/dir'",
        "global.find-links='/elsewhere'",
        f":env:.find-links='{wheels}'",                    # the environment wins
        "global.cert='/etc/ssl/certs/ca-certificates.crt'",
        "not a setting",
    ])
    settings = uv_env.pip_settings(listing)
    assert settings["find-links"] == str(wheels)
    lines = uv_env.exports(settings, environ={})
    assert f"export UV_FIND_LINKS={wheels}" in lines
    assert f"export UV_CONSTRAINT={constraints}" in lines
    assert "export UV_INDEX=https://a.example/simple" in lines      # missing dir dropped
    assert "export UV_INDEX_STRATEGY=unsafe-best-match" in lines    # pip's version choice
    assert "export UV_NATIVE_TLS=1" in lines


def test_what_the_user_set_for_uv_is_kept():
    lines = uv_env.exports({"index-url": "https://b.example/simple"},
                           environ={"UV_DEFAULT_INDEX": "https://mine.example"})
    assert lines == []
    assert uv_env.exports({}, environ={}) == []
