"""Hooks into training.

A callback's methods do nothing by default; override the ones you need.
``logs`` is a plain dict of the epoch's metrics (the history row).
"""

from __future__ import annotations

import csv
import io

import numpy as np


class Callback:
    """Base class: every hook is a no-op."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass


class History(Callback):
    """The per-epoch record of a training run: one row (a dict) per epoch.

    ``history["loss"]`` is the column as a NumPy array; ``history.rows`` the
    rows in order; ``history.to_csv()`` the CSV text with a header row.
    """

    def __init__(self, rows: list[dict] | None = None):
        self.rows: list[dict] = list(rows or [])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.rows.append(dict(logs or {}))

    @property
    def keys(self) -> list[str]:
        keys: list[str] = []
        for row in self.rows:
            keys.extend(k for k in row if k not in keys)
        return keys

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.keys:
            raise KeyError(f"{key!r} is not in the history; it has {self.keys}.")
        return np.array([row.get(key, np.nan) for row in self.rows])

    def __len__(self) -> int:
        return len(self.rows)

    def _repr_html_(self) -> str:
        from .report_html import history_html

        return history_html(self)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.keys, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> "History":
        rows = []
        for raw in csv.DictReader(io.StringIO(text)):
            rows.append({k: int(v) if k == "epoch" else float(v) for k, v in raw.items()})
        return cls(rows)
