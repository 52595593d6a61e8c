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
from dataclasses import dataclass
from pathlib import Path

from r2k.errors import DataDirectoryError

ENV_VAR = "R2K_DATA"
_HOW_TO = f"pass --data DIR or set {ENV_VAR}=DIR (for example ../shared/data)"


@dataclass(frozen=True, slots=True)
class DataDir:
    """A validated data directory."""

    root: Path

    @classmethod
    def resolve(cls, path: str | Path | None = None) -> DataDir:
        """Return the data directory from ``path``, else ``$R2K_DATA``.

        Raises
        ------
        DataDirectoryError
            If neither is given, or the directory does not exist.
        """
        chosen = path if path is not None else os.environ.get(ENV_VAR)
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
        """Holdings files of ``fund`` (``"IWM"`` or ``"IWV"``), oldest first."""
        return sorted(self.ishares_dir.glob(f"{fund}_????-??-??.csv"))

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
