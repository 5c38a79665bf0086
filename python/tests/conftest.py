"""Shared fixtures. Tests that run the real binary use the `binary` fixture: it skips them when no
binary can be found, unless SFTRL_REQUIRE_BINARY=1 (set by CI), where a missing binary fails."""
import os
from pathlib import Path

import pytest

import sftrl

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def binary():
    try:
        return sftrl.find_binary()
    except sftrl.BinaryNotFoundError as e:
        if os.environ.get("SFTRL_REQUIRE_BINARY") == "1":
            pytest.fail(f"SFTRL_REQUIRE_BINARY=1 but {e}")
        pytest.skip(str(e))


def three_response():
    """The README's instance: one prompt, three responses, β = 0.5."""
    return {"beta": 0.5, "policy": {"kind": "tabular"},
            "prompts": [{"weight": 1.0, "data": [0.7, 0.2, 0.1], "reward": [1.0, 0.0, -1.0],
                         "reference": [0.4, 0.3, 0.3], "start": [0.7, 0.2, 0.1]}]}
