"""Which identifiers were printed unmasked in which landing record: the base of identity ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd


class Emitted:
    """Collects (record, identifier_type, identifier_value, pid) for every unmasked, non-placeholder
    identifier written to a landing file. A record is one row (or one receipt / order) where the
    identifiers co-occur, which is the evidence identity resolution can use."""

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []
        self._next = 0

    def new_records(self, n: int) -> np.ndarray:
        keys = np.arange(self._next, self._next + n, dtype=np.int64)
        self._next += n
        return keys

    def add(self, records: np.ndarray, id_type: str, values, pids: np.ndarray, alone: bool = False) -> None:
        """Record identifiers printed on records. ``alone``: the record carries no other identifier, so
        only the distinct values matter (keeps memory small for bills and touch logs)."""
        v = pd.Series(np.asarray(values, dtype=object)).astype("str")
        keep = (v != "").to_numpy() & (v != "nan").to_numpy()
        if not keep.any():
            return
        frame = pd.DataFrame({"rec": np.asarray(records)[keep], "identifier_type": id_type,
                              "identifier_value": v[keep].to_numpy(), "pid": np.asarray(pids)[keep]})
        frame = frame.drop_duplicates(["identifier_value"] if alone else ["rec", "identifier_value"])
        self._frames.append(frame)

    def frame(self) -> pd.DataFrame:
        if not self._frames:
            return pd.DataFrame(columns=["rec", "identifier_type", "identifier_value", "pid"])
        return pd.concat(self._frames, ignore_index=True)
