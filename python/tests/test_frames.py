"""Frames say what the CLI table says; signatures spell out their options (fake binaries: no sftrl needed)."""
import inspect
import json
import math

import pytest

import sftrl
from test_binary import fake

CHECK_REPORT = {"seed": 1, "version": "x", "instances": 10, "claims": [
    {"verdict": "fails", "reference": "Eq. 5", "id": "eq5", "instances": 10, "min_margin": -0.09,
     "counterexample": {"certified": True, "evaluation": {"conclusion": -0.72}, "extended": {"conclusion": -0.7222}}},
    {"verdict": "holds", "reference": "Thm 3.1", "id": "thm3.1", "instances": 10, "min_margin": 1.5e-10},
    {"verdict": "holds", "reference": "Lemma 1", "id": "lemma1", "instances": 10, "min_margin": -3e-17},
    {"verdict": "vacuous", "reference": "R4", "id": "r4", "instances": 0, "min_margin": None},
]}
SEARCH_REPORT = {"seed": 1, "version": "x", "runs": [
    {"claim": "eq5", "reference": "Eq. 5", "verdict": "counterexample", "dropped": [],
     "counterexample": {"certified": True, "extended": {"conclusion": -1.0}}, "best": {"extended": {"conclusion": -1.0}}},
    {"claim": "thm3.1", "reference": "Thm 3.1", "verdict": "none found", "dropped": [], "counterexample": None,
     "best": {"evaluation": {"conclusion": 0.25}}},
]}


def json_writer(tmp_path, report, stderr=""):
    """A fake binary that writes `report` to the file after --json."""
    src = tmp_path / "report.json"
    src.write_text(json.dumps(report))
    return fake(tmp_path, f"""\
        while [ $# -gt 0 ]; do
          if [ "$1" = "--json" ]; then cp "{src}" "$2"; fi
          shift
        done
        printf '{stderr}' >&2
        exit 0
        """)


def test_check_frame_has_id_first_and_the_tables_margin(tmp_path, monkeypatch):
    monkeypatch.setenv("SFTRL_BIN", str(json_writer(tmp_path, CHECK_REPORT)))
    df = sftrl.check(instances=10)
    assert list(df.columns[:6]) == ["id", "reference", "verdict", "instances", "margin", "margin_kind"]
    assert df["margin"].tolist()[:3] == [-0.7222, 1.5e-10, -3e-17] and math.isnan(df["margin"].iloc[3])
    assert df["margin_kind"].tolist() == ["certified", "smallest", "round-off", None]
    assert df.attrs["seed"] == 1


def test_search_frame_has_an_id_and_a_margin(tmp_path, monkeypatch):
    monkeypatch.setenv("SFTRL_BIN", str(json_writer(tmp_path, SEARCH_REPORT)))
    df = sftrl.search("eq5", budget_evals=10)
    assert df.columns[0] == "id" and df["id"].tolist() == ["eq5", "thm3.1"]
    assert df["margin"].tolist() == [-1.0, 0.25]
    assert df["margin_kind"].tolist() == ["certified", "smallest found"]


@pytest.mark.parametrize("name", ["check", "search", "flow", "update", "pareto", "spectrum", "explain", "merge"])
def test_signatures_spell_out_their_options(name):
    fn = getattr(sftrl, name)
    kinds = [p.kind for p in inspect.signature(fn).parameters.values()]
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert fn.__doc__ and "Parameters" in fn.__doc__ and "Returns" in fn.__doc__


def test_unknown_keyword_is_a_type_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SFTRL_BIN", str(json_writer(tmp_path, CHECK_REPORT)))
    with pytest.raises(TypeError):
        sftrl.check(instances=10, instnaces=5)
    with pytest.raises(TypeError):
        sftrl.flow({}, schedule="sft:1", smaples=3)


def test_progress_bar_reads_the_progress_lines(tmp_path, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    b = json_writer(tmp_path, CHECK_REPORT, stderr="[check] 0/40 (0%%) 0.0s\\n[check] 40/40 (100%%) 0.3s\\nnote: done\\n")
    monkeypatch.setenv("SFTRL_BIN", str(b))
    df = sftrl.check(instances=10, progress=True)
    assert len(df) == 4
    err = capsys.readouterr().err
    assert "40/40" in err
