"""sftrl from Python: the command-line tool's checks, flows, searches, spectra,
sampled updates and Pareto fronts as pandas objects.

A thin wrapper with no compiled code: every function runs the ``sftrl`` binary: the one given to
:func:`set_binary`, else ``SFTRL_BIN``, else the copy shipped into the package at install time
(``pip install ./python`` copies, or first builds, the checkout's release binary), else ``PATH``,
else the release build of the sftrl checkout around the current directory. Errors of the binary raise :class:`SftrlError` (:class:`SftrlInputError` for exit status
2, bad input) carrying its message.
"""
from ._binary import BinaryNotFoundError, SftrlError, SftrlInputError, find_binary, run, set_binary
from .commands import check, claims, explain, flow, merge, pareto, read_report, search, spectrum, update

__version__ = "0.1.0"

__all__ = [
    "check", "flow", "search", "explain", "claims", "spectrum", "merge", "read_report", "update", "pareto",
    "find_binary", "set_binary", "run", "SftrlError", "SftrlInputError", "BinaryNotFoundError",
]
