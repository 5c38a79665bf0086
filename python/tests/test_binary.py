"""Finding the binary and turning its failures into exceptions, with fake binaries (no sftrl needed)."""
import os
import stat
import textwrap

import pytest

import sftrl
from sftrl._binary import options_to_args


def fake(dirpath, body, name="sftrl"):
    """An executable shell script standing in for the binary."""
    p = dirpath / name
    p.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return p


def test_sftrl_bin_comes_first(tmp_path, monkeypatch):
    first = fake(tmp_path, "echo first\n", name="mine")
    (tmp_path / "path").mkdir()
    fake(tmp_path / "path", "echo on-path\n")
    monkeypatch.setenv("SFTRL_BIN", str(first))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert sftrl.find_binary() == str(first)
    assert sftrl.run(["x"]).stdout == "first\n"


def test_path_comes_second(tmp_path, monkeypatch):
    monkeypatch.setattr("sftrl._binary._BUNDLED", tmp_path / "no-shipped-binary")
    (tmp_path / "path").mkdir()
    on_path = fake(tmp_path / "path", "echo on-path\n")
    monkeypatch.delenv("SFTRL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert sftrl.find_binary() == str(on_path)


def test_checkout_release_build_comes_third(tmp_path, monkeypatch):
    monkeypatch.setattr("sftrl._binary._BUNDLED", tmp_path / "no-shipped-binary")
    root = tmp_path / "checkout"
    (root / "python").mkdir(parents=True)
    (root / "python" / "pyproject.toml").write_text("")
    (root / "Package.swift").write_text("")
    (root / ".build" / "release").mkdir(parents=True)
    built = fake(root / ".build" / "release", "echo built\n")
    (root / "notebooks").mkdir()
    monkeypatch.delenv("SFTRL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(root / "notebooks")
    assert sftrl.find_binary() == str(built)


def test_bad_sftrl_bin_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("SFTRL_BIN", str(tmp_path / "missing"))
    with pytest.raises(sftrl.BinaryNotFoundError, match="SFTRL_BIN"):
        sftrl.find_binary()


def test_nothing_found(tmp_path, monkeypatch):
    monkeypatch.setattr("sftrl._binary._BUNDLED", tmp_path / "no-shipped-binary")
    monkeypatch.delenv("SFTRL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sftrl._binary._checkout_candidates", lambda: iter(()))
    with pytest.raises(sftrl.BinaryNotFoundError, match="swift build -c release"):
        sftrl.find_binary()


def test_exit_2_is_an_input_error_with_the_message(tmp_path, monkeypatch):
    b = fake(tmp_path, """\
        echo 'progress 50%' >&2
        echo 'error: --instances must be at least 1, got 0' >&2
        echo 'Usage: sftrl check [...]' >&2
        exit 2
        """)
    monkeypatch.setenv("SFTRL_BIN", str(b))
    with pytest.raises(sftrl.SftrlInputError) as info:
        sftrl.check(instances=0)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, sftrl.SftrlError)
    assert e.returncode == 2
    assert str(e) == "error: --instances must be at least 1, got 0"
    assert "Usage" in e.stderr
    assert e.command[1:4] == ["check", "--instances", "0"]


def test_exit_1_is_an_sftrl_error(tmp_path, monkeypatch):
    b = fake(tmp_path, "echo 'integration failed: step size underflow' >&2\nexit 1\n")
    monkeypatch.setenv("SFTRL_BIN", str(b))
    with pytest.raises(sftrl.SftrlError) as info:
        sftrl.run(["flow"])
    assert not isinstance(info.value, sftrl.SftrlInputError)
    assert info.value.returncode == 1
    assert "step size underflow" in str(info.value)


def test_options_to_args():
    assert options_to_args(max_steps=10, quiet=True, timing=False, shard=None) == ["--max-steps", "10", "--quiet"]
    assert options_to_args(claim=["a", "b"]) == ["--claim", "a", "--claim", "b"]
    assert options_to_args(event={"reward": 0.7, "sft_loss": 1.2}) == ["--event", "reward=0.7", "--event", "sft_loss=1.2"]
    assert options_to_args(rtol=1e-10) == ["--rtol", "1e-10"]
    assert options_to_args(v1=True, each_drop=True) == ["--v1", "--each-drop"]


def test_set_binary_comes_first_and_none_resets(tmp_path, monkeypatch):
    mine = fake(tmp_path, "echo chosen\n", name="chosen")
    other = fake(tmp_path, "echo env\n", name="env")
    monkeypatch.setenv("SFTRL_BIN", str(other))
    try:
        assert sftrl.set_binary(mine) == str(mine.resolve())
        assert sftrl.run(["x"]).stdout == "chosen\n"
    finally:
        sftrl.set_binary(None)
    assert sftrl.find_binary() == str(other)
    with pytest.raises(sftrl.BinaryNotFoundError, match="set_binary"):
        sftrl.set_binary(tmp_path / "missing")


def test_shipped_binary_comes_before_path(tmp_path, monkeypatch):
    shipped = fake(tmp_path, "echo shipped\n")
    (tmp_path / "path").mkdir()
    fake(tmp_path / "path", "echo on-path\n")
    monkeypatch.delenv("SFTRL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setattr("sftrl._binary._BUNDLED", shipped)
    assert sftrl.find_binary() == str(shipped)


def test_not_found_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("SFTRL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sftrl._binary._BUNDLED", tmp_path / "bin" / "sftrl")
    monkeypatch.setattr("sftrl._binary._checkout_candidates", lambda: iter([tmp_path / ".build" / "release" / "sftrl"]))
    with pytest.raises(sftrl.BinaryNotFoundError) as info:
        sftrl.find_binary()
    msg = str(info.value)
    for place in ("set_binary", "SFTRL_BIN", str(tmp_path / "bin" / "sftrl"), "PATH", str(tmp_path / ".build" / "release" / "sftrl")):
        assert place in msg
