"""Closed vocabularies of r2k as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal

IndexName = Literal[
    "R3000E", "R3000", "R1000", "R2000", "MICROCAP", "MIDCAP", "TOP200", "R2500"
]
INDEX_NAMES: tuple[IndexName, ...] = (
    "R3000E",
    "R3000",
    "R1000",
    "R2000",
    "MICROCAP",
    "MIDCAP",
    "TOP200",
    "R2500",
)

SecurityType = Literal[
    "common",
    "ordinary",
    "class_share",
    "depositary",
    "warrant",
    "right",
    "unit",
    "preferred",
    "note",
    "closed_end_fund",
    "etf",
    "spac",
    "partnership",
    "llc",
    "bdc",
    "trust",
    "other",
]

ReconKind = Literal["june", "december"]
