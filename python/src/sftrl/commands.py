"""The sftrl commands as Python functions returning pandas objects.

Each function runs the binary (see :func:`sftrl.find_binary`) with the options it is given and
reads back the JSON or CSV the command writes; nothing is computed in Python. Extra keyword
options pass through to the command line (``max_steps=10`` → ``--max-steps 10``).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd

from ._binary import options_to_args, run

__all__ = ["check", "flow", "search", "explain", "claims", "spectrum", "merge", "read_report",
           "update", "pareto"]

Instance = Union[dict, str, os.PathLike]


def _as_list(x) -> Optional[list]:
    if x is None:
        return None
    if isinstance(x, str):
        return [x]
    return list(x)


def _report_frame(report: dict) -> pd.DataFrame:
    """A check report (``claims``) or a search report (``runs``) as one row per entry, with every
    field the JSON has (nested objects stay dicts); the whole report in ``.attrs["report"]``."""
    if "claims" in report:
        rows = report["claims"]
    elif "runs" in report:
        rows = report["runs"]
    else:
        raise ValueError("not an sftrl check or search report: it has neither 'claims' nor 'runs'")
    df = pd.DataFrame(rows)
    df.attrs["report"] = report
    for key in ("seed", "version", "instances"):
        if key in report:
            df.attrs[key] = report[key]
    return df


def read_report(path: Union[str, os.PathLike]) -> pd.DataFrame:
    """A JSON report written by ``sftrl check --json``, ``sftrl search --json`` or ``sftrl merge``
    as the DataFrame :func:`check` / :func:`search` return."""
    with open(path, encoding="utf-8") as f:
        return _report_frame(json.load(f))


def _with_json_report(args: list) -> dict:
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        path = Path(tmp) / "report.json"
        run([*args, "--json", str(path)])
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def check(claims: Union[str, Iterable[str], None] = None, instances: int = 1000, seed: int = 1,
          drop: Union[str, Iterable[str], None] = None, *, threads: Optional[int] = None,
          shard: Optional[str] = None, **options) -> pd.DataFrame:
    """``sftrl check``: one row per claim with the JSON report's fields (``id``, ``reference``,
    ``statement``, ``verdict``, ``instances``, ``min_margin``, ``counterexample``, …: whatever the
    report holds). ``claims`` None checks every claim; ``drop`` names hypotheses to drop;
    ``shard="K/N"`` runs one shard (combine with :func:`merge`). The report's ``seed``,
    ``version``, ``instances`` and the whole report are in ``.attrs``."""
    args = ["check", "--instances", instances, "--seed", seed, "--quiet"]
    args += options_to_args(claim=_as_list(claims), drop=_as_list(drop), threads=threads,
                            shard=shard, **options)
    return _report_frame(_with_json_report(args))


def search(claims: Union[str, Iterable[str], None] = None, drop: Union[str, Iterable[str], None] = None,
           *, seed: int = 1, threads: Optional[int] = None, **options) -> pd.DataFrame:
    """``sftrl search``: one row per search (claim × dropped set) with the JSON report's fields
    (``claim``, ``dropped``, ``verdict``, ``evaluations``, ``best``, ``counterexample``, …).
    Options pass through: ``tightness=True``, ``each_drop=True``, ``v1=True``,
    ``budget_evals=5000``, ``restarts=4``, ``out="cx.json"``, ``shard="0/4"``, …"""
    args = ["search", "--seed", seed, "--quiet"]
    args += options_to_args(claim=_as_list(claims), drop=_as_list(drop), threads=threads, **options)
    return _report_frame(_with_json_report(args))


def merge(files: Iterable[Union[str, os.PathLike]], out: Union[str, os.PathLike, None] = None) -> pd.DataFrame:
    """``sftrl merge``: combine the JSON reports of sharded checks or searches; the merged report
    as :func:`read_report` gives it (also written to ``out`` when given)."""
    files = [str(f) for f in files]
    if out is not None:
        run(["merge", *files, "--out", str(out)])
        return read_report(out)
    return _report_frame(json.loads(run(["merge", *files]).stdout))


def _instance_file(instance: Instance, tmp: str) -> str:
    if isinstance(instance, dict):
        path = Path(tmp) / "instance.json"
        path.write_text(json.dumps(instance), encoding="utf-8")
        return str(path)
    if isinstance(instance, (str, os.PathLike)):
        return str(instance)
    raise TypeError(f"instance must be a dict (the instance schema) or a path, got {type(instance).__name__}")


def flow(instance: Instance, schedule: str = "sft:2,rl:5", *, out: Union[str, os.PathLike, None] = None,
         **options) -> pd.DataFrame:
    """``sftrl flow``: the trace (``trace.csv``: one row per output time, ``t``, ``phase``,
    ``sft_loss``, ``reward``, …) as a DataFrame, ``manifest.json`` in ``.attrs["manifest"]``.
    ``instance`` is a dict in the instance schema or a path to a JSON file. Options pass through:
    ``method="gd"``, ``eta=0.05``, ``stepper="msbdf"``, ``rtol=1e-10``, ``samples=201``,
    ``event={"reward": 0.7}`` (or ``event=["reward=0.7"]``). The files are written to ``out`` when
    given (kept), else to a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        directory = Path(out) if out is not None else Path(tmp) / "flow"
        run(["flow", "--instance", _instance_file(instance, tmp), "--schedule", schedule,
             "--out", str(directory), "--quiet", *options_to_args(**options)])
        trace = pd.read_csv(directory / "trace.csv")
        with open(directory / "manifest.json", encoding="utf-8") as f:
            trace.attrs["manifest"] = json.load(f)
        return trace


def spectrum(instance: Instance, at: str = "start") -> pd.DataFrame:
    """``sftrl spectrum --json``: the eigenvalues of ∇²L_SFT, −∇²J_β and the Fisher matrix on the
    subspace the flows move in, one column per matrix (``sft_hessian``, ``neg_rl_hessian``,
    ``fisher``), ascending; the constants μ_S, L_S, μ_R, L_R in ``.attrs["constants"]`` and the
    whole report in ``.attrs["report"]``. ``at``: ``start``, ``sft-optimum`` or ``rl-optimum``."""
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        report = json.loads(run(["spectrum", "--instance", _instance_file(instance, tmp), "--at", at, "--json"]).stdout)
    df = pd.DataFrame({name: pd.Series(values, dtype=float) for name, values in report["eigenvalues"].items()})
    df.index.name = "k"
    df.attrs["constants"] = report.get("constants", {})
    df.attrs["report"] = report
    return df


def explain(id: str, *, instances: Optional[int] = None, seed: Optional[int] = None, check: bool = True) -> dict:
    """``sftrl explain ID --json``: the claim's statement, reference, hypotheses, quick-check
    verdict, worked example (every margin in Double and extended precision) and proof page, as
    the JSON's dict."""
    args = ["explain", id, "--json", *options_to_args(instances=instances, seed=seed, no_check=not check)]
    return json.loads(run(args).stdout)


def claims() -> pd.DataFrame:
    """``sftrl explain --list --json``: one row per registered claim (``id``, ``reference``,
    ``hypotheses``, ``proof_page``, …)."""
    return pd.DataFrame(json.loads(run(["explain", "--list", "--json"]).stdout))


_UPDATE_VECTORS = ("expected_update", "gradient", "bias")


def update(instance: Instance, method: str, **options) -> dict:
    """``sftrl update --json``: the exact distribution of one sampled update (``sft-sgd``,
    ``reinforce``, ``grpo`` or ``chord``) at the instance's start, as the JSON's dict:
    ``expected_update`` (E[Δθ]), ``gradient`` (the targeted ascent direction), ``bias``
    (E[Δθ]/η − gradient) as numpy arrays in the policy's parameter order, and the scalars
    ``bias_norm``, ``gradient_norm``, ``cosine``, ``trace_covariance``, ``outcomes``, ``eta``,
    ``kl_estimate_expected``, ``kl_exact``, ``mode``, …: whatever the JSON holds. Options pass
    through: ``eta=0.1``, ``group_size=4``, ``batch_size=4``, ``scaling="none"``,
    ``kl_coef=0.0``, ``baseline=True``, ``mix=0.5``, ``monte_carlo=10000``, ``seed=0``, …"""
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        path = Path(tmp) / "update.json"
        run(["update", "--instance", _instance_file(instance, tmp), "--method", method,
             *options_to_args(**options), "--json", str(path)])
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
    for key in _UPDATE_VECTORS:
        if key in result:
            result[key] = np.asarray(result[key], dtype=float)
    return result


def pareto(instance: Instance, out: Union[str, os.PathLike, None] = None, **options) -> dict:
    """``sftrl pareto``: ``{"front", "paths", "summary"}``, the three CSV files as DataFrames
    (``front``: ``mu``, ``sft_loss``, ``reward``, ``reward_reg``; ``paths``: one row per output
    time of each path with ``distance``, ``reward_gap``, ``sft_gap``; ``summary``: one row per
    path), each with ``manifest.json`` in ``.attrs["manifest"]``. Options pass through:
    ``points=59``, ``duration=10``, ``alternations=4``, ``mix="0.25,0.5"`` (or a list),
    ``schedule=["sft:3,rl:7"]``, ``samples=81``, ``rtol=1e-10``, ``atol=1e-12``. The files are
    written to ``out`` when given (kept), else to a temporary directory."""
    if "mix" in options and not isinstance(options["mix"], (str, type(None))):
        options["mix"] = ",".join(str(m) for m in options["mix"])
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        directory = Path(out) if out is not None else Path(tmp) / "pareto"
        run(["pareto", "--instance", _instance_file(instance, tmp), "--out", str(directory), "--quiet",
             *options_to_args(**options)])
        with open(directory / "manifest.json", encoding="utf-8") as f:
            manifest = json.load(f)
        frames = {name: pd.read_csv(directory / f"{name}.csv") for name in ("front", "paths", "summary")}
    for df in frames.values():
        df.attrs["manifest"] = manifest
    return frames
