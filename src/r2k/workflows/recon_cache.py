"""A derived-data cache of reconstitutions, for the command line.

``r2k reconstitute`` (and the commands that reconstitute first) spend most of
their time deriving the same result from the same files: reading and checking
the market panel, following symbol changes, building the universe. This cache
keeps each result, keyed by everything the result depends on:

* the data: the data directory's absolute path, and the relative path, size and
  modification time (ns) of every file under it;
* the code: r2k's version, and the relative path, size and modification time of
  every file of the installed ``r2k`` package (so an edit of the source, with an
  editable install, is a new key);
* the question: the rank day, ``as_of`` and the rule set's content digest.

A hit returns what a miss computes, frame for frame, note for note, with the same
data-quality warnings raised again (:mod:`r2k.data.sources.quality`). Nothing
else is cached: errors are raised every time.

Where: ``$XDG_CACHE_HOME/r2k/recon`` (``~/.cache/r2k/recon`` when unset), never
inside the data directory (then there is no cache). ``R2K_NO_CACHE=1`` turns it
off. Each entry is written atomically (:func:`r2k.data.files.write_bytes_atomic`);
an entry that cannot be read back (truncated, corrupt, another format) is ignored
and replaced; the oldest entries beyond :data:`MAX_ENTRIES` are removed. Deleting
the folder is always safe.

Format (:data:`FORMAT`): the line ``R2KRECON <FORMAT>``, an 8-byte little-endian
header length, a JSON header (the key, the scalars, the warnings, and the offset
and length of each frame), then each frame as Arrow IPC.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import struct
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from r2k import __version__
from r2k.construction.reconstitution import Reconstitution
from r2k.data.files import write_bytes_atomic
from r2k.data.sources.quality import collect_warnings, data_warning
from r2k.errors import R2KError
from r2k.methodology.rule_sets import rule_set_for
from r2k.methodology.schedule import reconstitution_for_rank_day
from r2k.workflows.recon_run import ReconRun

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir
    from r2k.methodology.rule_sets import RuleSet

__all__ = [
    "ENV_DISABLE",
    "FORMAT",
    "MAX_ENTRIES",
    "cache_dir",
    "cache_key",
    "cached_reconstitution",
    "decode",
    "encode",
]

log = logging.getLogger(__name__)

ENV_DISABLE: Final = "R2K_NO_CACHE"
"""Set to anything but ``""`` or ``"0"`` to turn the cache off."""
FORMAT: Final = 1
"""Version of the entry format; another version is a miss."""
MAX_ENTRIES: Final = 32
"""Entries kept; the least recently written beyond it are removed."""
_MAGIC: Final = f"R2KRECON {FORMAT}\n".encode()
_SUFFIX: Final = ".r2kc"
_PACKAGE: Final = Path(__file__).resolve().parents[1]  # the r2k package folder
_RESULT_FRAMES: Final = ("membership", "exclusions", "changes", "breakpoints")


def cache_dir(data: DataDir) -> Path | None:
    """The folder of the entries, or None when the cache is off for ``data``.

    Off when :data:`ENV_DISABLE` is set, and when the folder would lie inside the
    data directory (derived data never goes there).
    """
    if os.environ.get(ENV_DISABLE, "").strip() not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    folder = (root / "r2k" / "recon").resolve()
    if folder.is_relative_to(data.root.resolve()):
        return None
    return folder


def _tree(h: hashlib._Hash, folder: Path, *, skip: frozenset[str]) -> None:
    """Feed the relative path, size and mtime of every file under ``folder``."""
    rows: list[str] = []
    visited: set[str] = set()
    # Linked folders are followed (a data directory of links to the real
    # folders), each real folder once.
    for top, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in files:
            path = Path(top) / name
            try:
                st = path.stat()
            except OSError:  # a broken link: its name still counts
                rows.append(f"{path.relative_to(folder)}\0-\0-")
                continue
            rows.append(f"{path.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}")
    h.update("\n".join(sorted(rows)).encode())
    h.update(b"\n\n")


def cache_key(data: DataDir, rank_day: date, as_of: date, rules: RuleSet) -> str:
    """The key of a reconstitution: data files, code files, question (hex SHA-256)."""
    h = hashlib.sha256()
    question = {
        "format": FORMAT,
        "r2k": __version__,
        "data": str(data.root.resolve()),
        "rank_day": rank_day.isoformat(),
        "as_of": as_of.isoformat(),
        "rules": rules.digest,
    }
    h.update(json.dumps(question, sort_keys=True).encode())
    _tree(h, data.root, skip=frozenset())
    _tree(h, _PACKAGE, skip=frozenset({"__pycache__"}))
    return h.hexdigest()


def _frame_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    return buffer.getvalue()


def encode(run: ReconRun, key: str, warned: list[str]) -> bytes:
    """The bytes of an entry: ``run``, the warnings its computation raised."""
    r = run.result
    frames = {name: getattr(r, name) for name in _RESULT_FRAMES}
    frames |= {"repairs": run.repairs, "universe_lines": run.universe_lines}
    blobs = {name: _frame_bytes(frame) for name, frame in frames.items()}
    offsets: dict[str, list[int]] = {}
    at = 0
    for name, blob in blobs.items():
        offsets[name] = [at, len(blob)]
        at += len(blob)
    header = {
        "key": key,
        "rank_day": r.rank_day.isoformat(),
        "effective_date": r.effective_date.isoformat(),
        "rules": r.rules,
        "rules_digest": r.rules_digest,
        "float_ownership_ratio": r.float_ownership_ratio,
        "universe_source": run.universe_source,
        "incumbent_source": run.incumbent_source,
        "universe_ids": sorted(run.universe_ids),
        "inputs": run.inputs,
        "notes": list(run.notes),
        "as_of": None if run.as_of is None else run.as_of.isoformat(),
        "warnings": warned,
        "frames": offsets,
    }
    text = json.dumps(header).encode()
    return b"".join([_MAGIC, struct.pack("<Q", len(text)), text, *blobs.values()])


def decode(blob: bytes, key: str) -> tuple[ReconRun, list[str]]:
    """The run and warnings of an entry; ValueError if it is not one for ``key``."""
    if not blob.startswith(_MAGIC):
        msg = "not a reconstitution cache entry of this format"
        raise ValueError(msg)
    start = len(_MAGIC) + 8
    (size,) = struct.unpack("<Q", blob[len(_MAGIC) : start])
    header: dict[str, Any] = json.loads(blob[start : start + size])
    if header["key"] != key:
        msg = "the entry belongs to another key"
        raise ValueError(msg)
    body = memoryview(blob)[start + size :]
    frames = {
        name: pl.read_ipc(bytes(body[at : at + length]))
        for name, (at, length) in header["frames"].items()
    }
    rank_day = date.fromisoformat(header["rank_day"])
    result = Reconstitution(
        rank_day=rank_day,
        effective_date=date.fromisoformat(header["effective_date"]),
        rules=header["rules"],
        rules_digest=header["rules_digest"],
        float_ownership_ratio=header["float_ownership_ratio"],
        **{name: frames[name] for name in _RESULT_FRAMES},
    )
    run = ReconRun(
        result=result,
        schedule=reconstitution_for_rank_day(rank_day),
        universe_source=header["universe_source"],
        incumbent_source=header["incumbent_source"],
        universe_ids=frozenset(header["universe_ids"]),
        inputs=dict(header["inputs"]),
        repairs=frames["repairs"],
        notes=tuple(header["notes"]),
        universe_lines=frames["universe_lines"],
        as_of=None if header["as_of"] is None else date.fromisoformat(header["as_of"]),
    )
    return run, list(header["warnings"])


def _prune(folder: Path) -> None:
    """Remove the least recently written entries beyond :data:`MAX_ENTRIES`."""
    try:
        entries = sorted(folder.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def cached_reconstitution(
    data: DataDir,
    rank_day: date,
    *,
    rules: RuleSet | None = None,
    as_of: date | None = None,
) -> ReconRun:
    """:func:`r2k.workflows.pipeline.run_reconstitution`, through the cache.

    The same arguments and the same result, warnings included; see the module
    docstring for the key and the folder.
    """
    folder = cache_dir(data)
    path: Path | None = None
    if folder is not None:
        seen = rank_day if as_of is None else as_of
        key = cache_key(data, rank_day, seen, rules or rule_set_for(rank_day))
        path = folder / f"{key}{_SUFFIX}"
        found = _load(path, key)
        if found is not None:
            run, warned = found
            for text in warned:
                data_warning(text)
            return run
    # Imported on a miss only: a hit needs none of the pipeline.
    from r2k.workflows.pipeline import run_reconstitution

    if folder is None or path is None:
        return run_reconstitution(data, rank_day, rules=rules, as_of=as_of)
    with collect_warnings() as warned:
        run = run_reconstitution(data, rank_day, rules=rules, as_of=as_of)
    for text in warned:
        data_warning(text)
    try:
        write_bytes_atomic(path, encode(run, key, warned), parents=True)
    except (OSError, R2KError) as exc:  # a read-only home: no cache, same result
        log.debug("reconstitution cache not written to %s (%s)", path, exc)
    else:
        _prune(folder)
    return run


def _load(path: Path, key: str) -> tuple[ReconRun, list[str]] | None:
    """The entry at ``path`` if there is a readable one for ``key``."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        return decode(blob, key)
    except Exception as exc:  # any unreadable entry is a miss, never an error
        log.debug("cache entry %s unreadable (%s); recomputing", path, exc)
        return None
