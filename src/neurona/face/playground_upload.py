"""A page's uploaded data file, kept in a temporary folder its session owns.

The playground's page sends its CSV or Parquet file to the server; it is
written, under a fixed name, into a folder made for that one browser tab
(:func:`tempfile.mkdtemp`) and read from there with neurona's own readers
(:class:`~neurona.data.readers.DataFile`, then
:func:`~neurona.data.read_data` through the experiment's config), so its
text columns and missing values follow the rules ``neurona train --data``
follows. :meth:`Upload.close` removes the folder; nothing is written
anywhere else.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..data.readers import DataFile
from ..errors import DataError, NeuronaError

#: The most bytes an uploaded file may hold.
MAX_BYTES = 20 * 1024 * 1024
#: The most data rows an uploaded file may hold.
MAX_ROWS = 200_000
#: The upload's formats, by the end of its name, and the name it is kept under.
FORMATS = {".csv": "data.csv", ".csv.gz": "data.csv.gz", ".parquet": "data.parquet"}


class UploadError(DataError):
    """An uploaded file refused: too large, too many rows, or not a data file neurona reads."""


class TooLarge(UploadError):
    """An uploaded file over the size or row limit."""


def stored_name(name: str) -> str:
    """The fixed name a file called ``name`` is kept under; an unknown kind is refused."""
    lower = str(name).lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if lower.endswith(suffix):
            return FORMATS[suffix]
    raise UploadError(f"{str(name)[:80]}: the playground reads .csv, .csv.gz and .parquet "
                      f"files; save the data as one of these.")


def too_large(size: int) -> TooLarge:
    return TooLarge(f"the file is {size / 2**20:.1f} MB and the playground takes at most "
                       f"{MAX_BYTES // 2**20} MB: upload a sample of its rows, or train on the "
                       f"whole file with neurona train --data FILE.")


class Upload:
    """One uploaded data file, in its own temporary folder.

    Parameters
    ----------
    name : str
        The file's name on the user's machine (only its ending is used, to
        know the format, and it is shown).
    body : bytes
        The file's contents: at most :data:`MAX_BYTES`, and, once read, at
        most :data:`MAX_ROWS` rows.
    """

    def __init__(self, name: str, body: bytes):
        stored = stored_name(name)
        if len(body) > MAX_BYTES:
            raise too_large(len(body))
        self.name = Path(str(name)).name[:120] or stored
        self.folder = Path(tempfile.mkdtemp(prefix="neurona-playground-"))
        self.path = self.folder / stored
        try:
            self.path.write_bytes(body)
            datafile = DataFile(self.path)
            self.columns = list(datafile.columns)
            self.n_rows = self._count_rows(datafile)
        except NeuronaError as exc:
            self.close()
            raise UploadError(str(exc).replace(str(self.path), self.name)) from None
        except Exception as exc:  # a reader's own error on a malformed file
            self.close()
            raise UploadError(f"{self.name}: not a readable data file "
                              f"({type(exc).__name__}: {str(exc)[:160]}).") from None
        if self.n_rows > MAX_ROWS:
            self.close()
            raise TooLarge(f"{self.name} has {self.n_rows} rows and the playground takes at "
                              f"most {MAX_ROWS}: upload a sample of its rows, or train on the "
                              f"whole file with neurona train --data FILE.")
        if len(self.columns) < 2:
            self.close()
            raise UploadError(f"{self.name} has {len(self.columns)} column; the playground "
                              f"needs a target and at least one feature.")

    @staticmethod
    def _count_rows(datafile: DataFile) -> int:
        if getattr(datafile, "n_rows", None):
            return int(datafile.n_rows)
        return sum(table.num_rows for _, table in datafile.batches(datafile.columns[:1]))

    def describe(self) -> dict:
        """What the page shows of the file: its name, columns and rows."""
        return {"name": self.name, "columns": self.columns, "rows": self.n_rows}

    def close(self) -> None:
        """Remove the folder and the file in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["Upload", "UploadError", "TooLarge", "MAX_BYTES", "MAX_ROWS", "stored_name"]
