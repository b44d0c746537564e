"""A fixture's reference results for the Python tests (PYTHONPATH=tests/testing)."""

import numpy as np


def reference(fixtures, name):
    """The upstream reference's codes (one [codebooks, frames] array per level,
    coarsest first) and decoded audio for fixture `name` under `fixtures`."""
    expected = np.load(f"{fixtures}/{name}/expected.npz")
    if "codes" in expected:
        return [expected["codes"]], expected["decoded"]
    levels = sorted(k for k in expected if k.startswith("codes_"))
    return [expected[k][None, :] for k in levels], expected["decoded"]
