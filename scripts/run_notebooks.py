#!/usr/bin/env python3
"""Execute every notebook under notebooks/ with nbclient (as CI does); fail on the first error.

Also fails when a committed notebook carries outputs (they are not committed: run
`jupyter nbconvert --clear-output --inplace notebooks/*.ipynb` before committing) and when a figure
folder of notebooks-data/ has no notebook of the same name (every figure has one). Usage:
    python scripts/run_notebooks.py [NOTEBOOK ...]      # default: all of notebooks/*.ipynb
Prints each notebook's wall time. Needs nbclient, nbformat, ipykernel, pandas, matplotlib and, for
python-live.ipynb, the sftrl package with a built binary.
"""
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = ROOT / "notebooks-data"


def problems_without_running(paths):
    out = []
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        if not (NOTEBOOKS / f"{folder.name}.ipynb").is_file():
            out.append(f"notebooks-data/{folder.name}/ has no notebook notebooks/{folder.name}.ipynb")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code"):
            out.append(f"{path.relative_to(ROOT)} has committed outputs: clear them "
                       f"(jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)})")
    return out


def main(argv):
    paths = [Path(a).resolve() for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks found under notebooks/", file=sys.stderr)
        return 1
    problems = problems_without_running(paths)
    os.environ.setdefault("MPLBACKEND", "Agg")
    failed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.monotonic()
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
            print(f"ok      {path.relative_to(ROOT)}  {time.monotonic() - start:.1f} s", flush=True)
        except CellExecutionError as e:
            failed += 1
            print(f"FAILED  {path.relative_to(ROOT)}\n{e}", file=sys.stderr, flush=True)
    for p in problems:
        print(f"FAILED  {p}", file=sys.stderr)
    print(f"{len(paths) - failed} of {len(paths)} notebooks ran; {len(problems)} other problems", flush=True)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
