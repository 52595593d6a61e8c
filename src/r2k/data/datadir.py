"""The data directory: where r2k reads real market data in place.

The directory comes from ``--data``, else the ``R2K_DATA`` environment variable.
Its layout is the one of ``../shared/data`` (see ``docs/data-formats.md``)::

    ishares/<FUND>_<YYYY-MM-DD>.csv        raw iShares holdings files
    market/*.parquet                       daily market panel
    indices/RUT_daily.csv ...              index levels
    membership/iwm_membership_history.parquet
    corporate_actions/splits/<year>.json
    reference/sec_company_tickers.parquet

r2k never writes into the data directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from r2k.errors import DataDirectoryError

__all__ = ["ENV_VAR", "DataDir", "holdings_file_date"]

ENV_VAR = "R2K_DATA"
#: Used when neither ``--data`` nor ``$R2K_DATA`` is given and it is a directory:
#: the project's layout, the data folder beside the checkout (relative to the
#: working directory).
DEFAULT_DATA = Path("..") / "shared" / "data"
_HOW_TO = (
    f"pass --data DIR or set {ENV_VAR}=DIR (without either, r2k reads "
    f"{DEFAULT_DATA.as_posix()} when that folder exists)"
)
_HOLDINGS_NAME = re.compile(r"^[A-Za-z]{2,5}_(\d{4})-(\d{2})-(\d{2})$")


def holdings_file_date(path: Path) -> date:
    """The date a holdings file is named after: ``IWM_2026-04-10.csv`` -> 2026-04-10.

    r2k dates a holdings file by its name (the day its holdings are known); the
    reader checks that the "Fund Holdings as of" line inside agrees.

    Raises
    ------
    DataDirectoryError
        If the name is not ``<FUND>_<YYYY-MM-DD>.csv`` or holds an impossible
        date (``IWM_2026-02-30.csv``); the message names the file and the fix.

    Examples
    --------
    >>> holdings_file_date(Path("ishares/IWM_2026-04-10.csv"))
    datetime.date(2026, 4, 10)
    """
    found = _HOLDINGS_NAME.match(path.stem)
    how = (
        "rename the file <FUND>_<YYYY-MM-DD>.csv after its 'Fund Holdings as of' "
        "date (line 2 of the file)"
    )
    if found is None or path.suffix.lower() != ".csv":
        msg = f"{path}: the file name is not <FUND>_<YYYY-MM-DD>.csv; {how}"
        raise DataDirectoryError(msg)
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        shown = path.stem.split("_", 1)[1]
        msg = (
            f"{path}: the file name holds {shown!r}, which is not a calendar date; "
            f"{how}"
        )
        raise DataDirectoryError(msg) from None


@dataclass(frozen=True, slots=True)
class DataDir:
    """A validated data directory."""

    root: Path

    @classmethod
    def resolve(cls, path: str | Path | None = None) -> DataDir:
        """Return the data directory from ``path``, else ``$R2K_DATA``.

        Without either, :data:`DEFAULT_DATA` (``../shared/data`` from the working
        directory: the data beside a checkout of this project) when it exists.

        Raises
        ------
        DataDirectoryError
            If none is given or found, or the directory does not exist.
        """
        chosen = path if path is not None else os.environ.get(ENV_VAR)
        if (chosen is None or str(chosen).strip() == "") and DEFAULT_DATA.is_dir():
            chosen = DEFAULT_DATA
        if chosen is None or str(chosen).strip() == "":
            msg = f"no data directory given: {_HOW_TO}"
            raise DataDirectoryError(msg)
        root = Path(chosen).expanduser()
        if not root.is_dir():
            msg = (
                f"data directory {root} does not exist or is not a directory: {_HOW_TO}"
            )
            raise DataDirectoryError(msg)
        return cls(root=root)

    def digests(self) -> dict[str, str]:
        """SHA-256 of every file of the directory, by path relative to it.

        Recorded with every calculation stored (the run's inputs).
        """
        import hashlib

        out: dict[str, str] = {}
        for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
            digest = hashlib.sha256()
            with path.open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
            out[path.relative_to(self.root).as_posix()] = digest.hexdigest()
        return out

    def file(self, relative: str) -> Path:
        """``relative`` inside the directory, or an error saying it is missing."""
        path = self.root / relative
        if not path.exists():
            msg = (
                f"data directory {self.root} has no {relative}; "
                f"point r2k at a directory laid out like ../shared/data ({_HOW_TO})"
            )
            raise DataDirectoryError(msg)
        return path

    @property
    def ishares_dir(self) -> Path:
        """Folder of raw iShares holdings files."""
        return self.file("ishares")

    def holdings_files(self, fund: str) -> list[Path]:
        """Holdings files of ``fund`` (``"IWM"`` or ``"IWV"``), oldest first.

        Raises
        ------
        DataDirectoryError
            If a file's name holds an impossible date (see
            :func:`holdings_file_date`).
        """
        return [path for _, path in self.dated_holdings(fund)]

    def dated_holdings(self, fund: str) -> list[tuple[date, Path]]:
        """``(date, file)`` of each holdings file of ``fund``, oldest first.

        The date is the one in the file's name (:func:`holdings_file_date`), the
        day from which r2k uses the file.

        Raises
        ------
        DataDirectoryError
            If a file's name holds an impossible date (``IWM_2026-02-30.csv``);
            the message names the file and how to rename it.
        """
        files = self.ishares_dir.glob(f"{fund}_????-??-??.csv")
        return sorted((holdings_file_date(path), path) for path in files)

    @property
    def market_panel(self) -> Path:
        """The daily market panel (the single Parquet file in ``market/``)."""
        files = sorted(self.file("market").glob("*.parquet"))
        if not files:
            msg = (
                f"data directory {self.root} has no market/*.parquet panel ({_HOW_TO})"
            )
            raise DataDirectoryError(msg)
        return files[-1]

    def index_levels(self, index: str) -> Path:
        """CSV of daily levels of ``index`` (``"RUT"``, ``"RUA"``, ``"SPX"``)."""
        folder = self.file("indices")
        files = sorted(folder.glob(f"{index}_*.csv"))
        if not files:
            msg = f"data directory {self.root} has no indices/{index}_*.csv ({_HOW_TO})"
            raise DataDirectoryError(msg)
        return files[0]

    @property
    def membership_history(self) -> Path:
        """IWM membership history (Parquet)."""
        return self.file("membership/iwm_membership_history.parquet")

    @property
    def splits_dir(self) -> Path:
        """Folder of yearly split catalogues (JSON)."""
        return self.file("corporate_actions/splits")

    @property
    def sec_tickers(self) -> Path:
        """SEC company tickers (Parquet)."""
        return self.file("reference/sec_company_tickers.parquet")

    @property
    def sp_constituents(self) -> Path:
        """S&P 600 / S&P 500 constituents (CSV)."""
        return self.file("reference/sp600_sp500_constituents.csv")
