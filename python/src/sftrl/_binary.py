"""Finding and running the sftrl binary; its failures as Python exceptions."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Optional, Sequence

__all__ = [
    "SftrlError",
    "SftrlInputError",
    "BinaryNotFoundError",
    "find_binary",
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
    """No sftrl binary in SFTRL_BIN, on PATH, or in a checkout's .build/release."""


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
    """The sftrl executable: ``$SFTRL_BIN`` when set (it must exist), else ``sftrl`` on ``PATH``,
    else the release build of the sftrl checkout that contains the current directory (or this
    package's source)."""
    env = os.environ.get("SFTRL_BIN")
    if env:
        p = Path(env).expanduser()
        if not _is_executable(p):
            raise BinaryNotFoundError(
                f"SFTRL_BIN={env!r} is not an executable file; point it at the sftrl binary "
                "(e.g. .build/release/sftrl) or unset it to search PATH")
        return str(p)
    on_path = shutil.which("sftrl")
    if on_path:
        return on_path
    tried = []
    for candidate in _checkout_candidates():
        if _is_executable(candidate):
            return str(candidate)
        tried.append(str(candidate))
    where = f" (looked for {', '.join(tried)})" if tried else ""
    raise BinaryNotFoundError(
        "cannot find the sftrl binary: set SFTRL_BIN, put sftrl on PATH, or build the repository "
        f"with `swift build -c release`{where}")


def _message(stderr: str) -> str:
    lines = [l.rstrip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.lower().startswith("error")]
    if errors:
        return "\n".join(errors)
    return "\n".join(lines[-5:]) if lines else "(no message on stderr)"


def run(args: Sequence[str], *, check: bool = True, cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run ``sftrl ARGS...``; stdout and stderr captured as text. A non-zero exit raises
    :class:`SftrlInputError` (status 2) or :class:`SftrlError` (any other) with the binary's
    message, unless ``check`` is false."""
    command = [find_binary(), *map(str, args)]
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
