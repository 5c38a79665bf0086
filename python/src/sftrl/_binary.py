"""Finding and running the sftrl binary; its failures as Python exceptions."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

__all__ = [
    "SftrlError",
    "SftrlInputError",
    "BinaryNotFoundError",
    "find_binary",
    "set_binary",
    "run",
    "options_to_args",
]


class SftrlError(RuntimeError):
    """The binary exited with a non-zero status (1: a failed computation).

    ``message`` is the binary's error message (its ``error:`` lines, or the last lines of stderr),
    ``returncode`` its exit status, ``stderr`` everything it wrote there, ``command`` the argv.
    """

    def __init__(self, message: str, returncode: int, stderr: str, command: Sequence[str]):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.stderr = stderr
        self.command = list(command)


class SftrlInputError(SftrlError, ValueError):
    """Exit status 2: bad arguments or bad input; the message names the option or field."""


class BinaryNotFoundError(FileNotFoundError):
    """No sftrl binary: not set with :func:`set_binary`, not in SFTRL_BIN, not shipped in the
    package, not on PATH, not in a checkout's .build/release. The message lists where it looked."""


_chosen: Optional[str] = None
_BUNDLED = Path(__file__).resolve().parent / "bin" / "sftrl"


def set_binary(path: Optional[Union[str, os.PathLike]]) -> Optional[str]:
    """Use the sftrl executable at ``path`` for every later call (``None``: search again).

    Parameters
    ----------
    path : str or os.PathLike or None
        An executable file, e.g. ``"~/sftrl/.build/release/sftrl"``.

    Returns
    -------
    str or None
        The absolute path now in use.

    Raises
    ------
    BinaryNotFoundError
        When ``path`` is not an executable file.
    """
    global _chosen
    if path is None:
        _chosen = None
        return None
    p = Path(path).expanduser().resolve()
    if not _is_executable(p):
        raise BinaryNotFoundError(f"set_binary({str(path)!r}): not an executable file")
    _chosen = str(p)
    return _chosen


def _is_executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def _checkout_candidates() -> Iterable[Path]:
    """`.build/release/sftrl` of every directory above the current one and above this file that
    holds sftrl's Package.swift (the repository root)."""
    seen = set()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for d in (start, *start.parents):
            if d in seen:
                continue
            seen.add(d)
            if (d / "Package.swift").is_file() and (d / "python" / "pyproject.toml").is_file():
                yield d / ".build" / "release" / "sftrl"


def find_binary() -> str:
    """The sftrl executable, from the first of: :func:`set_binary`; ``$SFTRL_BIN`` (it must
    exist); the binary shipped in this package at install time (``sftrl/bin/sftrl``); ``sftrl``
    on ``PATH``; the release build of the sftrl checkout that contains the current directory
    (or this package's source).

    Raises
    ------
    BinaryNotFoundError
        Naming every place it looked.
    """
    if _chosen is not None:
        return _chosen
    env = os.environ.get("SFTRL_BIN")
    if env:
        p = Path(env).expanduser()
        if not _is_executable(p):
            raise BinaryNotFoundError(
                f"SFTRL_BIN={env!r} is not an executable file; point it at the sftrl binary "
                "(e.g. .build/release/sftrl) or unset it to search PATH")
        return str(p)
    tried = ["sftrl.set_binary(...) (not called)", "$SFTRL_BIN (not set)"]
    if _is_executable(_BUNDLED):
        return str(_BUNDLED)
    tried.append(f"{_BUNDLED} (the copy shipped at install time: none)")
    on_path = shutil.which("sftrl")
    if on_path:
        return on_path
    tried.append("sftrl on PATH")
    for candidate in _checkout_candidates():
        if _is_executable(candidate):
            return str(candidate)
        tried.append(str(candidate))
    raise BinaryNotFoundError(
        "cannot find the sftrl binary; looked in: " + "; ".join(tried) + ". Call "
        "sftrl.set_binary(PATH), set SFTRL_BIN, put sftrl on PATH, or build the repository with "
        "`swift build -c release` and reinstall (`pip install ./python` ships the built binary)")


def _message(stderr: str) -> str:
    lines = [l.rstrip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.lower().startswith("error")]
    if errors:
        return "\n".join(errors)
    return "\n".join(lines[-5:]) if lines else "(no message on stderr)"


_PROGRESS = re.compile(r"^\[([\w-]+)\]\s+(\d+)/(\d+)")


def _run_with_progress(command: Sequence[str], cwd: Optional[str]) -> subprocess.CompletedProcess:
    """Run while turning the binary's ``[name] k/n`` progress lines on stderr into a tqdm bar."""
    try:
        from tqdm.auto import tqdm
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("progress=True needs tqdm: pip install tqdm") from e
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    out_chunks = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    err_lines, bar = [], None
    for line in proc.stderr:
        m = _PROGRESS.match(line.strip())
        if m:
            done, total = int(m.group(2)), int(m.group(3))
            if bar is None:
                bar = tqdm(total=total, desc=m.group(1), unit="it")
            bar.total = total
            bar.n = done
            bar.refresh()
        else:
            err_lines.append(line)
    proc.wait()
    reader.join()
    if bar is not None:
        bar.close()
    return subprocess.CompletedProcess(list(command), proc.returncode, "".join(out_chunks), "".join(err_lines))


def run(args: Sequence[str], *, check: bool = True, cwd: Optional[str] = None,
        progress: bool = False) -> subprocess.CompletedProcess:
    """Run ``sftrl ARGS...``; stdout and stderr captured as text.

    Parameters
    ----------
    args : sequence
        The command line after ``sftrl`` (items are converted with ``str``).
    check : bool, default True
        Raise on a non-zero exit: :class:`SftrlInputError` (status 2) or :class:`SftrlError`
        (any other), with the binary's message.
    cwd : str, optional
        Working folder of the process.
    progress : bool, default False
        Show the binary's progress lines as a tqdm bar (needs ``tqdm``).
    """
    command = [find_binary(), *map(str, args)]
    if progress:
        done = _run_with_progress(command, cwd)
    else:
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if check and done.returncode != 0:
        kind = SftrlInputError if done.returncode == 2 else SftrlError
        raise kind(_message(done.stderr), done.returncode, done.stderr, command)
    return done


def options_to_args(**options) -> list:
    """Keyword options as command-line arguments: ``max_steps=10`` → ``--max-steps 10``,
    ``quiet=True`` → ``--quiet`` (False/None: omitted), a list or tuple → the option repeated,
    a dict → ``--name key=value`` repeated (``event={"reward": 0.7}``)."""
    out = []
    for name, value in options.items():
        flag = "--" + name.rstrip("_").replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            out.append(flag)
        elif isinstance(value, dict):
            for k, v in value.items():
                out += [flag, f"{k}={v}"]
        elif isinstance(value, (list, tuple)):
            for v in value:
                out += [flag, str(v)]
        else:
            out += [flag, str(value)]
    return out
