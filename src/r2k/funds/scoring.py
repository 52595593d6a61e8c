"""Score a reconstitution preview against the volume of the effective date.

On the effective date the index funds trade at the close, so a line they must
buy or sell trades a multiple of its usual volume. For a line::

    volume_ratio = volume(effective date) / median(volume, the `window` sessions
                                                     ending on the rank day)

The baseline window ends on the rank day, before any preview or announcement, so
the reconstitution's own trading does not enter it. The score of a preview is,
over its predicted changes (every row but ``stay``) that trade on the effective
date: the share with ``volume_ratio >= threshold`` and the Spearman rank
correlation between ``days_of_volume`` and ``volume_ratio`` (docs/funds.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

if TYPE_CHECKING:
    from datetime import date

__all__ = [
    "BASELINE_WINDOW",
    "THRESHOLD",
    "score_preview",
    "spearman",
    "volume_ratios",
]

BASELINE_WINDOW: Final = 20
THRESHOLD: Final = 3.0


def volume_ratios(
    market: pl.DataFrame,
    rank_day: date,
    effective: date,
    *,
    window: int = BASELINE_WINDOW,
) -> pl.DataFrame:
    """``security_id, volume_effective, volume_baseline, volume_ratio``."""
    before = market.filter(pl.col("session") <= rank_day)
    sessions = before.get_column("session").unique().sort(descending=True).head(window)
    baseline = (
        before.filter(pl.col("session").is_in(sessions.implode()))
        .group_by("security_id")
        .agg(volume_baseline=pl.col("volume").cast(pl.Float64).median())
    )
    day = market.filter(pl.col("session") == effective).select(
        "security_id", volume_effective=pl.col("volume").cast(pl.Float64)
    )
    return day.join(baseline, on="security_id", how="inner").with_columns(
        volume_ratio=pl.when(pl.col("volume_baseline") > 0).then(
            pl.col("volume_effective") / pl.col("volume_baseline")
        )
    )


def spearman(x: pl.Series, y: pl.Series) -> float | None:
    """Spearman rank correlation (average ranks for ties); None under 3 pairs."""
    frame = pl.DataFrame({"x": x, "y": y}).drop_nulls()
    if frame.height < 3:
        return None
    value = frame.select(
        pl.corr(pl.col("x").rank("average"), pl.col("y").rank("average"))
    ).item()
    return None if value is None else float(value)


def score_preview(
    preview: pl.DataFrame, ratios: pl.DataFrame, *, threshold: float = THRESHOLD
) -> dict[str, dict[str, float | int | None]]:
    """Share at ``threshold`` x volume and Spearman, over all changes and by kind."""
    changes = preview.filter(pl.col("change") != "stay").join(
        ratios, on="security_id", how="left"
    )
    groups: dict[str, pl.DataFrame] = {"changes": changes}
    for kind in ("add", "delete", "migrate_up", "migrate_down"):
        groups[kind] = changes.filter(pl.col("change") == kind)
    stays = preview.filter(pl.col("change") == "stay").join(
        ratios, on="security_id", how="left"
    )
    groups["stay"] = stays
    out: dict[str, dict[str, float | int | None]] = {}
    for name, frame in groups.items():
        scored = frame.filter(pl.col("volume_ratio").is_not_null())
        share = (
            float((scored["volume_ratio"] >= threshold).mean())  # type: ignore[arg-type]
            if scored.height
            else None
        )
        out[name] = {
            "predicted": frame.height,
            "scored": scored.height,
            "share_at_threshold": share,
            "median_volume_ratio": (
                float(scored["volume_ratio"].median())  # type: ignore[arg-type]
                if scored.height
                else None
            ),
            "spearman": spearman(scored["days_of_volume"], scored["volume_ratio"]),
        }
    return out
