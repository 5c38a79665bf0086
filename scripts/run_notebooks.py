#!/usr/bin/env python3
"""Execute every notebook under notebooks/ with nbclient (as CI does) and hold it to its committed outputs.

Notebooks are committed *executed*, so that their figures are visible in the repository. This script
re-executes each one and fails when
  - a cell raises (every headline number is an assert),
  - a committed notebook has no outputs (run this script with --write and commit the result),
  - a fresh text output differs from the committed one (after masking wall times, timestamps and
    memory addresses, the only parts allowed to differ), or a figure appears or disappears,
  - a notebook shows no figure, or a figure is not followed by a markdown cell that interprets it,
  - a figure folder of notebooks-data/ has no notebook of the same name (every figure has one).
Usage:
    python scripts/run_notebooks.py [--write] [NOTEBOOK ...]   # default: all of notebooks/*.ipynb
--write saves the executed notebooks (outputs included) in place instead of comparing. Prints each
notebook's wall time. Needs nbclient, nbformat, ipykernel, pandas, matplotlib and, for
python-live.ipynb, the sftrl package with a built binary.
"""
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = ROOT / "notebooks-data"

# What may differ between two executions: wall times, timestamps, memory addresses, kernel ids.
MASKS = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0x…"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?"), "<timestamp>"),
    (re.compile(r"\b\d+(\.\d+)?(e[-+]?\d+)? ?(s|ms|µs|seconds)\b"), "<time>"),
    (re.compile(r'"(wall_seconds|seconds|instances_per_second|created)": ?[^,}\n]+'), r'"\1": <masked>'),
]
# text/html is left out: it is the same table as text/plain, in a markup that pandas versions change.
TEXT_KINDS = ("text/plain", "text/markdown", "application/json")


def masked(text):
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


def summary(output):
    """A comparable view of one output: its type, its masked text, and whether it is a figure."""
    kind = output.get("output_type")
    if kind == "stream":
        return (kind, output.get("name"), masked(output.get("text", "")))
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        figure = any(k.startswith("image/") for k in data)
        texts = tuple(masked(str(data[k])) for k in TEXT_KINDS if k in data and not (figure and k == "text/plain"))
        return (kind, "figure" if figure else "data", texts)
    if kind == "error":
        return (kind, output.get("ename"), "")
    return (kind, None, "")


def summaries(outputs):
    """The outputs' summaries, consecutive stream chunks of one name joined and trailing white
    space dropped: the kernel may split one print into several chunks, or send its newline apart."""
    out = []
    for o in outputs:
        x = summary(o)
        if x[0] == "stream" and out and out[-1][0] == "stream" and out[-1][1] == x[1]:
            out[-1] = ("stream", x[1], out[-1][2] + x[2])
        else:
            out.append(x)
    return [("stream", n, t.rstrip()) if k == "stream" else (k, n, t) for k, n, t in out]


def has_figure(cell):
    return any(o.get("output_type") in ("execute_result", "display_data")
               and any(k.startswith("image/") for k in o.get("data", {})) for o in cell.get("outputs", []))


def structural_problems(path, nb):
    rel = path.relative_to(ROOT)
    out = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not any(c.get("outputs") for c in code):
        out.append(f"{rel} is committed without outputs: run `python scripts/run_notebooks.py --write {rel}` "
                   f"and commit the executed notebook")
        return out
    figures = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and has_figure(c)]
    if not figures:
        out.append(f"{rel} shows no figure")
    for i in figures:
        after = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if after is None or after.cell_type != "markdown" or len(after.source.split()) < 25:
            out.append(f"{rel}: the figure of cell {i} is not followed by a markdown paragraph that says what it shows")
    return out


def differences(path, committed, fresh):
    rel = path.relative_to(ROOT)
    out = []
    for i, (a, b) in enumerate(zip(committed.cells, fresh.cells)):
        if a.cell_type != "code":
            continue
        sa = summaries(a.get("outputs", []))
        sb = summaries(b.get("outputs", []))
        if sa != sb:
            detail = next((f"committed {x!r:.300}\n          fresh     {y!r:.300}" for x, y in zip(sa, sb) if x != y),
                          f"{len(sa)} committed outputs, {len(sb)} fresh")
            out.append(f"{rel}: cell {i} outputs differ from the committed notebook (rerun with --write if the "
                       f"change is intended):\n          {detail}")
    return out


def main(argv):
    write = "--write" in argv
    args = [a for a in argv if a != "--write"]
    paths = [Path(a).resolve() for a in args] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks found under notebooks/", file=sys.stderr)
        return 1
    problems = [f"notebooks-data/{f.name}/ has no notebook notebooks/{f.name}.ipynb"
                for f in sorted(p for p in DATA.iterdir() if p.is_dir())
                if not (NOTEBOOKS / f"{f.name}.ipynb").is_file()]
    # One BLAS thread, as scripts/test.sh sets it: LAPACK's eigenvalues (python-live's spectrum)
    # differ in the 16th digit between thread counts, and outputs are compared as text.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Figures are shown inline (and so saved in the executed notebook), never in a window.
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    failed = 0
    for path in paths:
        committed = nbformat.read(path, as_version=4)
        fresh = nbformat.read(path, as_version=4)
        for c in fresh.cells:
            if c.cell_type == "code":
                c.outputs, c.execution_count = [], None
        start = time.monotonic()
        client = NotebookClient(fresh, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as e:
            failed += 1
            print(f"FAILED  {path.relative_to(ROOT)}\n{e}", file=sys.stderr, flush=True)
            continue
        print(f"ok      {path.relative_to(ROOT)}  {time.monotonic() - start:.1f} s", flush=True)
        if write:
            fresh.metadata.pop("widgets", None)
            for c in fresh.cells:  # execution timestamps only churn the diff
                c.metadata.pop("execution", None)
            nbformat.write(fresh, path)
            problems += structural_problems(path, fresh)
        else:
            problems += structural_problems(path, committed) or differences(path, committed, fresh)
    for p in problems:
        print(f"FAILED  {p}", file=sys.stderr)
    print(f"{len(paths) - failed} of {len(paths)} notebooks ran; {len(problems)} other problems", flush=True)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
