import pytest

from khulasa_server.service import config


def test_precedence_defaults_file_env_flags(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text('listen = "0.0.0.0:9000"\nworkers = 3\nmax_texts = 5\n')
    env = {"KHULASA_CONFIG": str(path), "KHULASA_WORKERS": "7", "KHULASA_VERIFY_BUNDLE": "false"}
    s = config.load(["--max-texts", "9"], environ=env)
    assert (s.listen, s.workers, s.max_texts, s.verify_bundle) == ("0.0.0.0:9000", 7, 9, False)
    assert s.max_text_chars == config.Settings().max_text_chars


def test_invalid_values_are_named():
    with pytest.raises(ValueError, match="KHULASA_WORKERS: expected int"):
        config.load([], environ={"KHULASA_WORKERS": "many"})
    with pytest.raises(ValueError, match="device"):
        config.load(["--device", "tpu"], environ={})


def test_unknown_file_keys_are_refused(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text("wokers = 3\n")
    with pytest.raises(ValueError, match="unknown settings wokers"):
        config.load(["--config", str(path)], environ={})
