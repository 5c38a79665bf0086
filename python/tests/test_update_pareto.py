"""sftrl.update and sftrl.pareto against the binary's own outputs and against closed forms."""
import json
import math
import subprocess

import numpy as np
import pandas as pd
import pytest

import sftrl
from conftest import three_response


def softmax_gradient(p, r):
    """∇_θ J = p ⊙ (r − E_p r) for the tabular softmax at p (no KL)."""
    p, r = np.asarray(p, float), np.asarray(r, float)
    return p * (r - p @ r)


def test_update_equals_the_cli_json(binary, tmp_path):
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(three_response()))
    out = tmp_path / "cli.json"
    subprocess.run([binary, "update", "--instance", str(path), "--method", "grpo", "--group-size", "3",
                    "--scaling", "none", "--json", str(out)], check=True, capture_output=True)
    cli = json.loads(out.read_text())
    got = sftrl.update(three_response(), "grpo", group_size=3, scaling="none")
    assert set(got) == set(cli)
    for key, value in cli.items():
        if isinstance(value, list):
            assert isinstance(got[key], np.ndarray) and got[key].tolist() == value, key
        else:
            assert got[key] == value, key
    # From a path: the same result.
    assert sftrl.update(path, "grpo", group_size=3, scaling="none")["expected_update"].tolist() == cli["expected_update"]


@pytest.mark.parametrize("eta", [1.0, 0.05])
def test_reinforce_is_unbiased_and_the_baseline_shrinks_by_one_minus_one_over_g(binary, eta):
    inst = three_response()
    prompt = inst["prompts"][0]
    grad = softmax_gradient(prompt["start"], prompt["reward"])       # closed form, KL off
    plain = sftrl.update(inst, "reinforce", eta=eta, group_size=4, kl_coef=0)
    assert plain["method"] == "reinforce" and plain["mode"] == "exact"
    assert np.allclose(plain["gradient"], grad, atol=1e-12)
    assert np.abs(plain["expected_update"] - eta * plain["gradient"]).max() < 1e-10
    assert plain["bias_norm"] < 1e-10 and plain["cosine"] == pytest.approx(1, abs=1e-12)
    assert plain["outcomes"] == math.comb(4 + 2, 2)                    # multisets of 4 out of 3 responses
    base = sftrl.update(inst, "reinforce", eta=eta, group_size=4, kl_coef=0, baseline=True)
    assert np.abs(base["expected_update"] - (1 - 1 / 4) * eta * grad).max() < 1e-10


def test_update_bad_input_raises_with_the_binarys_message(binary):
    with pytest.raises(sftrl.SftrlInputError) as info:
        sftrl.update(three_response(), "no-such-method")
    assert info.value.returncode == 2 and "method" in str(info.value)


def test_pareto_equals_the_cli_output(binary, tmp_path):
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(three_response()))
    cli_dir = tmp_path / "cli"
    args = ["--points", "19", "--duration", "2", "--samples", "21"]
    subprocess.run([binary, "pareto", "--instance", str(path), "--out", str(cli_dir), "--quiet", *args],
                   check=True, capture_output=True)
    got = sftrl.pareto(three_response(), points=19, duration=2, samples=21)
    assert set(got) == {"front", "paths", "summary"}
    for name, df in got.items():
        pd.testing.assert_frame_equal(df, pd.read_csv(cli_dir / f"{name}.csv"), check_exact=True)
        manifest, cli_manifest = df.attrs["manifest"], json.loads((cli_dir / "manifest.json").read_text())
        assert manifest["command"][1] == "pareto" and "--points" in manifest["command"]
        # The same manifest but for the file paths and the run's timing.
        def comparable(m):
            m = {k: v for k, v in m.items() if k not in ("command", "timing")}
            m["extra"] = dict(m["extra"], instance={k: v for k, v in m["extra"]["instance"].items() if k != "path"})
            return m
        assert comparable(manifest) == comparable(cli_manifest)
    # out given: the files are kept there.
    kept = tmp_path / "kept"
    again = sftrl.pareto(path, out=kept, points=19, duration=2, samples=21)
    assert {p.name for p in kept.iterdir()} >= {"front.csv", "paths.csv", "summary.csv", "manifest.json", "pareto.svg"}
    pd.testing.assert_frame_equal(again["front"], got["front"], check_exact=True)


def test_pareto_front_is_monotone_with_closed_form_ends(binary):
    inst = three_response()
    prompt, beta = inst["prompts"][0], inst["beta"]
    got = sftrl.pareto(inst, points=29, duration=2, samples=11, mix=[0.5])
    front = got["front"]
    assert list(front.columns) == ["mu", "sft_loss", "reward", "reward_reg"]
    assert len(front) == 29 + 2
    f = front.sort_values("mu", ascending=False)
    assert (np.diff(f["sft_loss"]) > 0).all() and (np.diff(f["reward_reg"]) > 0).all()
    p_D, r, ref = (np.asarray(prompt[k], float) for k in ("data", "reward", "reference"))
    ends = front.set_index("mu")
    # μ = 1: p = p_D, L_SFT = H(p_D). μ = 0: the Gibbs tilt, J_β = β log E_ref e^{r/β}.
    assert ends.loc[1.0, "sft_loss"] == pytest.approx(-(p_D * np.log(p_D)).sum(), abs=1e-12)
    assert ends.loc[1.0, "reward"] == pytest.approx(p_D @ r, abs=1e-12)
    assert ends.loc[0.0, "reward_reg"] == pytest.approx(beta * np.log(ref @ np.exp(r / beta)), abs=1e-12)
    assert set(got["summary"]["path"]) == {"sft-then-rl", "rl-then-sft", "alternating-4", "mix-0.5"}
    assert (got["paths"]["reward_gap"] > -1e-9).all()
