"""The sftrl commands as Python functions returning pandas objects.

Each function runs the binary (see :func:`sftrl.find_binary`) with the options it is given and
reads back the JSON or CSV the command writes; nothing is computed in Python. Every option is a
named keyword (``max_steps=10`` → ``--max-steps 10``; ``None`` leaves the command's default), so
an unknown keyword raises ``TypeError``. ``progress=True`` shows a tqdm bar for long calls.
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


def _check_margin(row: dict):
    """The margin cell of ``sftrl check``'s table as (value, kind): a failure's certified
    (extended-precision) margin, a holding claim's smallest margin ("round-off" when negative),
    nothing for a vacuous claim."""
    verdict = row.get("verdict")
    cx = row.get("counterexample") or None
    if verdict == "fails" and cx:
        m = (cx.get("extended") or cx.get("evaluation") or {}).get("conclusion")
        return m, ("certified exact tie" if m == 0 else "certified")
    if verdict == "holds" and row.get("min_margin") is not None:
        m = row["min_margin"]
        return m, ("round-off" if m < 0 else "smallest")
    return float("nan"), None


def _search_margin(row: dict):
    """The margin of ``sftrl search``'s table as (value, kind): a certified counterexample's
    extended-precision margin, else the smallest margin the search found."""
    cx = row.get("counterexample") or None
    if cx:
        m = (cx.get("extended") or cx.get("evaluation") or {}).get("conclusion")
        return m, ("certified" if cx.get("certified") else "found")
    best = row.get("best") or None
    if best:
        m = (best.get("extended") or best.get("evaluation") or {}).get("conclusion", best.get("found_margin"))
        return m, "smallest found"
    return float("nan"), None


def _report_frame(report: dict) -> pd.DataFrame:
    """A check report (``claims``) or a search report (``runs``) as one row per entry: ``id``
    first (the claim id), then flat ``margin`` and ``margin_kind`` columns as the command's
    table shows them, then every field the JSON has (nested objects stay dicts); the whole
    report in ``.attrs["report"]``."""
    if "claims" in report:
        rows, margin = report["claims"], _check_margin
    elif "runs" in report:
        rows, margin = report["runs"], _search_margin
    else:
        raise ValueError("not an sftrl check or search report: it has neither 'claims' nor 'runs'")
    df = pd.DataFrame(rows)
    if "id" not in df.columns:
        df.insert(0, "id", [r.get("claim") for r in rows])
    pairs = [margin(r) for r in rows]
    df["margin"] = pd.Series([p[0] for p in pairs], index=df.index, dtype=float)
    df["margin_kind"] = pd.Series([p[1] for p in pairs], index=df.index, dtype=object)
    first = [c for c in ("id", "claim", "reference", "verdict", "instances", "margin", "margin_kind") if c in df.columns]
    df = df[first + [c for c in df.columns if c not in first]]
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


def _with_json_report(args: list, progress: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        path = Path(tmp) / "report.json"
        run([*args, "--json", str(path)], progress=progress)
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def check(claims: Union[str, Iterable[str], None] = None, instances: int = 1000, seed: int = 1,
          drop: Union[str, Iterable[str], None] = None, *, threads: Optional[int] = None,
          shard: Optional[str] = None, timing: bool = False, progress: bool = False) -> pd.DataFrame:
    """``sftrl check``: test claims on random instances.

    Parameters
    ----------
    claims : str or iterable of str, optional
        Claim ids (``sftrl.claims()`` lists them); ``None`` checks every claim.
    instances : int, default 1000
        Instances per claim that must meet the hypotheses.
    seed : int, default 1
        Seed of the run; instance k of a claim is a function of (seed, claim id, k).
    drop : str or iterable of str, optional
        Hypotheses to drop (instances need not meet them).
    threads : int, optional
        Worker threads (default: the CPUs this process may use); results do not depend on it.
    shard : str, optional
        ``"K/N"``: run shard K of N (combine the reports with :func:`merge`).
    timing : bool, default False
        Record wall time and instances per second per claim.
    progress : bool, default False
        Show a tqdm progress bar (needs ``tqdm``).

    Returns
    -------
    pandas.DataFrame
        One row per claim: ``id``, ``reference``, ``verdict``, ``instances``, ``margin`` and
        ``margin_kind`` (the table's margin cell: ``certified`` for a failure's certified
        margin, ``smallest`` or ``round-off`` for a holding claim's smallest margin), then every
        field of the JSON report (``min_margin``, ``counterexample``, …). ``.attrs`` holds the
        report's ``seed``, ``version``, ``instances`` and the whole ``report``.
    """
    args = ["check", "--instances", instances, "--seed", seed, *([] if progress else ["--quiet"])]
    args += options_to_args(claim=_as_list(claims), drop=_as_list(drop), threads=threads,
                            shard=shard, timing=timing)
    return _report_frame(_with_json_report(args, progress))


def search(claims: Union[str, Iterable[str], None] = None, drop: Union[str, Iterable[str], None] = None,
           *, seed: int = 1, v1: bool = False, each_drop: bool = False, tightness: bool = False,
           budget_evals: Optional[int] = None, budget_seconds: Optional[float] = None,
           restarts: Optional[int] = None, candidates: Optional[int] = None, shard: Optional[str] = None,
           threads: Optional[int] = None, out: Union[str, os.PathLike, None] = None,
           out_dir: Union[str, os.PathLike, None] = None, no_shrink: bool = False, timing: bool = False,
           progress: bool = False) -> pd.DataFrame:
    """``sftrl search``: targeted counterexample search.

    Parameters
    ----------
    claims : str or iterable of str, optional
        Claim ids to search.
    drop : str or iterable of str, optional
        Hypotheses to drop.
    seed : int, default 1
        Seed of the run.
    v1 : bool, default False
        Search every claim of paper-notes.md §3.
    each_drop : bool, default False
        For each claim, search with nothing dropped and then with each hypothesis dropped.
    tightness : bool, default False
        Maximise lhs/rhs instead of looking for a violation.
    budget_evals : int, optional
        Objective evaluations per search (command default 50000).
    budget_seconds : float, optional
        Wall-clock cap per search (command default 50).
    restarts : int, optional
        Random restarts per search (command default 16).
    candidates : int, optional
        Random instances per restart before the local optimisation (command default 8).
    shard : str, optional
        ``"K/N"``: only the restarts ≡ K mod N.
    threads : int, optional
        Worker threads.
    out, out_dir : path, optional
        Write the counterexample (or every certified one) there.
    no_shrink : bool, default False
        Do not shrink counterexamples.
    timing : bool, default False
        Record wall time per search.
    progress : bool, default False
        Show a tqdm progress bar (needs ``tqdm``).

    Returns
    -------
    pandas.DataFrame
        One row per search (claim × dropped set): ``id`` (the claim), ``claim``, ``reference``,
        ``verdict``, ``margin`` and ``margin_kind`` (``certified`` for a certified
        counterexample's margin, ``smallest found`` otherwise), then every JSON field
        (``dropped``, ``evaluations``, ``best``, ``counterexample``, …).
    """
    args = ["search", "--seed", seed, *([] if progress else ["--quiet"])]
    args += options_to_args(claim=_as_list(claims), drop=_as_list(drop), v1=v1, each_drop=each_drop,
                            tightness=tightness, budget_evals=budget_evals, budget_seconds=budget_seconds,
                            restarts=restarts, candidates=candidates, shard=shard, threads=threads,
                            out=out, out_dir=out_dir, no_shrink=no_shrink, timing=timing)
    return _report_frame(_with_json_report(args, progress))


def merge(files: Iterable[Union[str, os.PathLike]], out: Union[str, os.PathLike, None] = None) -> pd.DataFrame:
    """``sftrl merge``: combine the JSON reports of sharded checks or searches.

    Parameters
    ----------
    files : iterable of path
        The shard reports.
    out : path, optional
        Also write the merged report there.

    Returns
    -------
    pandas.DataFrame
        The merged report as :func:`read_report` gives it.
    """
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
         method: Optional[str] = None, eta: Optional[float] = None, stepper: Optional[str] = None,
         rtol: Optional[float] = None, atol: Optional[float] = None, max_steps: Optional[int] = None,
         samples: Optional[int] = None, output_steps: Optional[str] = None, norm: Optional[str] = None,
         event: Union[dict, Iterable[str], None] = None, seeds: Optional[int] = None, seed: Optional[int] = None,
         every: Optional[int] = None, group_size: Optional[int] = None, batch_size: Optional[int] = None,
         optimizer: Optional[str] = None, scaling: Optional[str] = None, epsilon: Optional[float] = None,
         epsilon_high: Optional[float] = None, inner_iterations: Optional[int] = None,
         kl_coef: Optional[float] = None, kl_estimator: Optional[str] = None, aggregation: Optional[str] = None,
         baseline: bool = False, mix: Optional[float] = None) -> pd.DataFrame:
    """``sftrl flow``: SFT/RL dynamics on an instance.

    Parameters
    ----------
    instance : dict or path
        The instance (a dict in the instance schema) or a JSON file.
    schedule : str, default "sft:2,rl:5"
        Phases ``sft:D``, ``rl:D``, ``mix:MU:D`` (and sampled phases) separated by commas.
    out : path, optional
        Keep the output folder there (else a temporary one).
    method : str, optional
        ``flow`` (exact, GSL; the default), ``gd``, or a sampled method.
    eta : float, optional
        Step size of ``gd`` and sampled methods.
    stepper, rtol, atol, max_steps, samples, output_steps, norm
        Integrator options (``None``: the command's default: dop853, dense output, rms norm).
    event : dict or iterable of str, optional
        ``{"reward": 0.7}`` or ``["reward=0.7"]``: report first crossings.
    seeds, seed, every
        Sampled phases: runs, seed, row spacing.
    group_size, batch_size, optimizer, scaling, epsilon, epsilon_high, inner_iterations, kl_coef, kl_estimator, aggregation, baseline, mix
        The sampled algorithms' options, as ``sftrl flow --help`` / ``sftrl update --help``
        state them (``None``: the command's default).

    Returns
    -------
    pandas.DataFrame
        ``trace.csv``: one row per output time (``t``, ``phase``, ``sft_loss``, ``reward``, …);
        ``manifest.json`` in ``.attrs["manifest"]``.
    """
    options = options_to_args(method=method, eta=eta, stepper=stepper, rtol=rtol, atol=atol, max_steps=max_steps,
                              samples=samples, output_steps=output_steps, norm=norm, event=event, seeds=seeds, seed=seed,
                              every=every, group_size=group_size, batch_size=batch_size, optimizer=optimizer, scaling=scaling,
                         epsilon=epsilon, epsilon_high=epsilon_high, inner_iterations=inner_iterations,
                         kl_coef=kl_coef, kl_estimator=kl_estimator, aggregation=aggregation, baseline=baseline, mix=mix)
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        directory = Path(out) if out is not None else Path(tmp) / "flow"
        run(["flow", "--instance", _instance_file(instance, tmp), "--schedule", schedule,
             "--out", str(directory), "--quiet", *options])
        trace = pd.read_csv(directory / "trace.csv")
        with open(directory / "manifest.json", encoding="utf-8") as f:
            trace.attrs["manifest"] = json.load(f)
        return trace


def spectrum(instance: Instance, at: str = "start") -> pd.DataFrame:
    """``sftrl spectrum --json``: eigenvalues of ∇²L_SFT, −∇²J_β and the Fisher matrix.

    Parameters
    ----------
    instance : dict or path
        The instance (a dict in the instance schema) or a JSON file.
    at : str, default "start"
        ``start``, ``sft-optimum`` or ``rl-optimum``.

    Returns
    -------
    pandas.DataFrame
        One column per matrix (``sft_hessian``, ``neg_rl_hessian``, ``fisher``), ascending, on
        the subspace the flows move in; the constants μ_S, L_S, μ_R, L_R in
        ``.attrs["constants"]`` and the whole report in ``.attrs["report"]``.
    """
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        report = json.loads(run(["spectrum", "--instance", _instance_file(instance, tmp), "--at", at, "--json"]).stdout)
    df = pd.DataFrame({name: pd.Series(values, dtype=float) for name, values in report["eigenvalues"].items()})
    df.index.name = "k"
    df.attrs["constants"] = report.get("constants", {})
    df.attrs["report"] = report
    return df


def explain(id: str, *, instances: Optional[int] = None, seed: Optional[int] = None, check: bool = True) -> dict:
    """``sftrl explain ID --json``: one claim, explained.

    Parameters
    ----------
    id : str
        The claim id (``sftrl.claims()`` lists them).
    instances : int, optional
        Instances of the quick check.
    seed : int, optional
        Seed of the quick check.
    check : bool, default True
        Run the quick check.

    Returns
    -------
    dict
        The statement, reference, hypotheses, quick-check verdict, worked example (every margin
        in Double and extended precision) and proof page.
    """
    args = ["explain", id, "--json", *options_to_args(instances=instances, seed=seed, no_check=not check)]
    return json.loads(run(args).stdout)


def claims() -> pd.DataFrame:
    """``sftrl explain --list --json``: one row per registered claim (``id``, ``reference``,
    ``hypotheses``, ``proof_page``, …)."""
    return pd.DataFrame(json.loads(run(["explain", "--list", "--json"]).stdout))


_UPDATE_VECTORS = ("expected_update", "gradient", "bias")


def update(instance: Instance, method: str, *, eta: Optional[float] = None, monte_carlo: Optional[int] = None,
           seed: Optional[int] = None, group_size: Optional[int] = None, batch_size: Optional[int] = None,
         optimizer: Optional[str] = None, scaling: Optional[str] = None, epsilon: Optional[float] = None,
         epsilon_high: Optional[float] = None, inner_iterations: Optional[int] = None,
         kl_coef: Optional[float] = None, kl_estimator: Optional[str] = None, aggregation: Optional[str] = None,
         baseline: bool = False, mix: Optional[float] = None) -> dict:
    """``sftrl update --json``: the exact distribution of one sampled update at the start.

    Parameters
    ----------
    instance : dict or path
        The instance (a dict in the instance schema) or a JSON file.
    method : str
        ``sft-sgd``, ``reinforce``, ``grpo`` or ``chord``.
    eta : float, optional
        Step size (command default 1.0).
    monte_carlo : int, optional
        Estimate from N drawn batches instead of enumerating.
    seed : int, optional
        Seed of ``monte_carlo``.
    group_size, batch_size, optimizer, scaling, epsilon, epsilon_high, inner_iterations, kl_coef, kl_estimator, aggregation, baseline, mix
        The sampled algorithms' options, as ``sftrl flow --help`` / ``sftrl update --help``
        state them (``None``: the command's default).

    Returns
    -------
    dict
        The JSON's fields: ``expected_update`` (E[Δθ]), ``gradient``, ``bias`` as numpy arrays in
        the policy's parameter order; ``bias_norm``, ``gradient_norm``, ``cosine``,
        ``trace_covariance``, ``outcomes``, ``eta``, ``kl_estimate_expected``, ``kl_exact``, …
    """
    options = options_to_args(eta=eta, monte_carlo=monte_carlo, seed=seed, group_size=group_size, batch_size=batch_size, optimizer=optimizer, scaling=scaling,
                         epsilon=epsilon, epsilon_high=epsilon_high, inner_iterations=inner_iterations,
                         kl_coef=kl_coef, kl_estimator=kl_estimator, aggregation=aggregation, baseline=baseline, mix=mix)
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        path = Path(tmp) / "update.json"
        run(["update", "--instance", _instance_file(instance, tmp), "--method", method,
             *options, "--json", str(path)])
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
    for key in _UPDATE_VECTORS:
        if key in result:
            result[key] = np.asarray(result[key], dtype=float)
    return result


def pareto(instance: Instance, out: Union[str, os.PathLike, None] = None, *, points: Optional[int] = None,
           duration: Optional[float] = None, alternations: Optional[int] = None,
           mix: Union[str, Iterable[float], None] = None, schedule: Union[str, Iterable[str], None] = None,
           samples: Optional[int] = None, rtol: Optional[float] = None, atol: Optional[float] = None) -> dict:
    """``sftrl pareto``: the exact SFT/RL Pareto front and the paths of the standard pipelines.

    Parameters
    ----------
    instance : dict or path
        A tabular or log-linear instance.
    out : path, optional
        Keep the output folder there (else a temporary one).
    points, duration, alternations, samples, rtol, atol
        As ``sftrl pareto --help`` states them (``None``: the command's default).
    mix : str or iterable of float, optional
        SFT weights μ of the mix paths (``"0.25,0.5"`` or ``[0.25, 0.5]``).
    schedule : str or iterable of str, optional
        Extra paths, as in :func:`flow`.

    Returns
    -------
    dict
        ``{"front", "paths", "summary"}``: the three CSV files as DataFrames, each with
        ``manifest.json`` in ``.attrs["manifest"]``.
    """
    if mix is not None and not isinstance(mix, str):
        mix = ",".join(str(m) for m in mix)
    options = options_to_args(points=points, duration=duration, alternations=alternations, mix=mix,
                              schedule=_as_list(schedule), samples=samples, rtol=rtol, atol=atol)
    with tempfile.TemporaryDirectory(prefix="sftrl-py-") as tmp:
        directory = Path(out) if out is not None else Path(tmp) / "pareto"
        run(["pareto", "--instance", _instance_file(instance, tmp), "--out", str(directory), "--quiet", *options])
        with open(directory / "manifest.json", encoding="utf-8") as f:
            manifest = json.load(f)
        frames = {name: pd.read_csv(directory / f"{name}.csv") for name in ("front", "paths", "summary")}
    for df in frames.values():
        df.attrs["manifest"] = manifest
    return frames
