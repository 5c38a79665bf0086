"""sftrl from Python: the command-line tool's checks, flows, searches, spectra,
sampled updates and Pareto fronts as pandas objects.

A thin wrapper with no compiled code: every function runs the ``sftrl`` binary, found through
``SFTRL_BIN``, then ``PATH``, then the release build of the sftrl checkout around the current
directory. Errors of the binary raise :class:`SftrlError` (:class:`SftrlInputError` for exit status
2, bad input) carrying its message.
"""
from ._binary import BinaryNotFoundError, SftrlError, SftrlInputError, find_binary, run
from .commands import check, claims, explain, flow, merge, pareto, read_report, search, spectrum, update

__version__ = "0.1.0"

__all__ = [
    "check", "flow", "search", "explain", "claims", "spectrum", "merge", "read_report", "update", "pareto",
    "find_binary", "run", "SftrlError", "SftrlInputError", "BinaryNotFoundError",
]
