"""The wrappers against the real binary: the same numbers as the command line, the right errors."""
import json
import math
import subprocess

import pandas as pd
import pytest

import sftrl
from conftest import EXAMPLES, three_response


def cli_json(binary, tmp_path, *args):
    out = tmp_path / "cli.json"
    subprocess.run([binary, *args, "--json", str(out), "--quiet"], check=True, capture_output=True)
    return json.loads(out.read_text())


def test_check_matches_the_cli(binary, tmp_path):
    df = sftrl.check(claims=["thm3.1", "eq5"], instances=200, seed=3)
    report = cli_json(binary, tmp_path, "check", "--claim", "thm3.1", "--claim", "eq5", "--instances", "200", "--seed", "3")
    assert list(df["id"]) == ["thm3.1", "eq5"]
    assert list(df["verdict"]) == [c["verdict"] for c in report["claims"]] == ["holds", "fails"]
    # Every field of the JSON report is a column (no hard-coded list), and the values agree.
    fields = {k for c in report["claims"] for k in c}
    assert set(df.columns) == fields | {"margin", "margin_kind"}
    # The table's margin cell, flat: the kind in parentheses is the CLI table's, the values the
    # failure's certified margin and the holding claim's smallest.
    table = subprocess.run([binary, "check", "--claim", "thm3.1", "--claim", "eq5", "--instances", "200", "--seed", "3", "--quiet"],
                           capture_output=True, text=True).stdout
    kinds = {line.split()[0]: line[line.rindex("(") + 1:line.rindex(")")] for line in table.splitlines()
             if line.split() and line.split()[0] in ("thm3.1", "eq5")}
    assert list(df["margin_kind"]) == [kinds["thm3.1"], kinds["eq5"]]
    assert df["margin"].iloc[0] == report["claims"][0]["min_margin"]
    assert df["margin"].iloc[1] == report["claims"][1]["counterexample"]["extended"]["conclusion"]
    for row, claim in zip(df.to_dict("records"), report["claims"]):
        for k, v in claim.items():
            assert row[k] == v or (v is None and row[k] is None), k
    assert df.attrs["seed"] == 3 and df.attrs["report"] == report
    cx = df.set_index("id").loc["eq5", "counterexample"]
    assert cx["certified"] is True and cx["evaluation"]["conclusion"] < 0


def test_check_drop_changes_the_verdict(binary):
    kept = sftrl.check("thm3.1", instances=100)
    dropped = sftrl.check("thm3.1", instances=100, drop="H10")
    assert kept.loc[0, "verdict"] == "holds"
    assert dropped.loc[0, "verdict"] == "fails"
    assert dropped.loc[0, "dropped"] == ["H10"]


def test_unknown_claim_raises_with_the_binarys_message(binary):
    with pytest.raises(sftrl.SftrlInputError) as info:
        sftrl.check(claims="no-such-claim", instances=10)
    assert info.value.returncode == 2
    assert 'unknown claim id "no-such-claim"' in str(info.value)
    assert "thm3.1" in str(info.value)


def test_shards_merged_equal_the_whole_run(binary, tmp_path):
    files = []
    for k in range(3):
        f = tmp_path / f"part{k}.json"
        sftrl.run(["check", "--claim", "eq6-pinsker", "--claim", "r4-threshold", "--instances", "60",
                   "--shard", f"{k}/3", "--json", str(f), "--quiet"])
        files.append(f)
    merged = sftrl.merge(files, out=tmp_path / "merged.json")
    whole = sftrl.check(claims=["eq6-pinsker", "r4-threshold"], instances=60)
    assert merged.attrs["report"] == whole.attrs["report"]
    assert sftrl.merge(files).attrs["report"] == whole.attrs["report"]


def test_flow_from_a_dict(binary):
    trace = sftrl.flow(three_response(), schedule="sft:2,rl:5", samples=71)
    for column in ("t", "phase", "sft_loss", "reward", "kl_policy_ref", "cos_sft_rl"):
        assert column in trace.columns
    assert trace["t"].iloc[0] == 0 and trace["t"].iloc[-1] == pytest.approx(7)
    assert set(trace["phase"]) == {"sft", "rl"}
    # start = data: SFT does not move, the SFT loss is the data's entropy; then RL changes it.
    p = [0.7, 0.2, 0.1]
    entropy = -sum(x * math.log(x) for x in p)
    sft = trace[trace["phase"] == "sft"]
    assert sft["sft_loss"].to_numpy() == pytest.approx(entropy, abs=1e-12)
    assert trace["reward"].iloc[0] == pytest.approx(0.7 - 0.1, abs=1e-12)
    assert trace["reward"].iloc[-1] > trace["reward"].iloc[0]
    manifest = trace.attrs["manifest"]
    assert "flow" in manifest["command"] and "sft:2,rl:5" in manifest["command"]


def test_flow_from_a_path_with_options(binary, tmp_path):
    trace = sftrl.flow(EXAMPLES / "three-response.json", schedule="sft:2,rl:5", event={"reward": 0.7},
                       rtol=1e-10, out=tmp_path / "run")
    assert (tmp_path / "run" / "trace.csv").exists()
    assert trace.equals(pd.read_csv(tmp_path / "run" / "trace.csv"))
    [event] = trace.attrs["manifest"]["extra"]["events"]
    assert event["spec"] == "reward=0.7" and event["reached"]
    # The event time lies between the trace's last sample below 0.7 and its first above.
    below = trace[trace["reward"] < 0.7]["t"].max()
    above = trace[trace["reward"] >= 0.7]["t"].min()
    assert below < event["t"] <= above


def test_flow_gradient_steps(binary):
    trace = sftrl.flow(EXAMPLES / "three-response.json", schedule="sft:2,rl:5", method="gd", eta=0.1)
    assert "step" in trace.columns
    assert trace["step"].iloc[-1] == 70


def test_flow_bad_instance_names_the_field(binary):
    bad = three_response()
    bad["prompts"][0]["data"] = [0.5, 0.2, 0.1]
    with pytest.raises(sftrl.SftrlInputError, match=r"prompts\[0\]\.data"):
        sftrl.flow(bad, schedule="sft:1")


def test_flow_bad_schedule(binary):
    with pytest.raises(sftrl.SftrlInputError, match="schedule"):
        sftrl.flow(three_response(), schedule="sleep:3")


def test_spectrum(binary):
    sp = sftrl.spectrum(EXAMPLES / "three-response.json", at="sft-optimum")
    assert set(sp.columns) == {"sft_hessian", "neg_rl_hessian", "fisher"}
    assert len(sp) == sp.attrs["report"]["subspace_dimension"] == 2
    c = sp.attrs["constants"]
    assert c["mu_sft"] == pytest.approx(sp["sft_hessian"].min())
    assert c["smooth_sft"] == pytest.approx(sp["sft_hessian"].max())
    # At the SFT optimum of a tabular instance, the SFT Hessian is the Fisher matrix.
    assert sp["sft_hessian"].to_numpy() == pytest.approx(sp["fisher"].to_numpy(), rel=1e-10)


def test_explain_and_claims(binary):
    e = sftrl.explain("eq5", instances=50)
    assert e["id"] == "eq5" and e["check"]["verdict"] == "fails"
    assert e["proof_page"] == "proofs/eq5.md"
    listing = sftrl.claims()
    assert {"thm3.1", "eq5", "r4-threshold"} <= set(listing["id"])
    with pytest.raises(sftrl.SftrlInputError, match="unknown claim id"):
        sftrl.explain("no-such-claim")


def test_search_finds_the_eq5_counterexample(binary):
    df = sftrl.search("eq5", budget_evals=2000, restarts=4)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["claim"] == "eq5" and row["verdict"] == "counterexample"
    assert row["counterexample"]["certified"] is True
    assert row["evaluations"] <= 2000
