"""What the command-line tests read back from a run directory."""

import csv

import numpy as np


def history(run) -> dict:
    """Each column of ``run/history.csv`` as a float array."""
    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
