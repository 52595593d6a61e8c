"""Closed vocabularies of r2k as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal

IndexCode = Literal[
    "r3000e", "r3000", "r1000", "r2000", "microcap", "midcap", "top200", "r2500"
]
"""An index of the Russell US family, as the membership flag columns name it."""
INDEX_CODES: tuple[IndexCode, ...] = (
    "r3000e",
    "r3000",
    "r1000",
    "r2000",
    "microcap",
    "midcap",
    "top200",
    "r2500",
)
INDEX_LABELS: dict[IndexCode, str] = {
    "r3000e": "Russell 3000E",
    "r3000": "Russell 3000",
    "r1000": "Russell 1000",
    "r2000": "Russell 2000",
    "microcap": "Russell Microcap",
    "midcap": "Russell Midcap",
    "top200": "Russell Top 200",
    "r2500": "Russell 2500",
}

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

# ------------------------------------------------ settings of the layers

BandEdges = Literal["inclusive", "exclusive"]
Weights = Literal["holdings", "r2k"]
FileFormat = Literal["csv", "parquet", "json"]
Phase = Literal["open", "close"]
TotalReturnConvention = Literal["reinvest", "points"]
RocUnit = Literal["percent", "fraction", "ratio"]
FxQuote = Literal["target_per_usd", "usd_per_target"]
MissingFx = Literal["error", "ffill"]
Frequency = Literal["daily", "weekly", "monthly"]
FirstBar = Literal["high_low", "skip"]
WidthUnit = Literal["points", "fraction", "percent"]
PositionUnit = Literal["fraction", "percent"]
SupportRule = Literal["extremes", "pivots"]
FundMethod = Literal["full", "sampling", "optimized"]
"""How a simulated index fund holds the index (``r2k fund simulate --method``)."""
FUND_METHODS: tuple[FundMethod, ...] = ("full", "sampling", "optimized")
