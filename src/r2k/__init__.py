"""r2k: an open implementation of the Russell US index family (Russell 2000 centred).

The curated API. Build a membership, calculate an index, explain it::

    import r2k

    rec = r2k.reconstitute(universe, incumbents, r2k.RuleSet.default())
    settings = r2k.Settings(rules=rules, index="r1000")
    calc = r2k.calculate(state, market, actions, settings, end=last_session)
    summary = r2k.analyze(levels)

From a data directory (the workflows join the data layer with the engines)::

    run = r2k.run_reconstitution(r2k.DataDir.resolve("../shared/data"), rank_day)
    real = r2k.calculate_real(data, start, end, weights="r2k", index="r2000")

Names are imported on first use, so ``import r2k`` stays cheap for the command line.
The layers behind them (``r2k.methodology``, ``r2k.construction``,
``r2k.maintenance``, ``r2k.data``, ``r2k.synthetic``, ``r2k.analytics``,
``r2k.fidelity``, ``r2k.workflows``, ``r2k.reporting``, ``r2k.cli``) are described in
``docs/architecture.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    # vocabulary and errors
    "INDEX_CODES": "r2k._typing",
    "INDEX_LABELS": "r2k._typing",
    "IndexCode": "r2k._typing",
    "R2KError": "r2k.errors",
    "InputError": "r2k.errors",
    "DataDirectoryError": "r2k.errors",
    "SourceFormatError": "r2k.errors",
    "SchemaError": "r2k.errors",
    "NotSessionError": "r2k.errors",
    "MissingDataError": "r2k.errors",
    "MethodologyError": "r2k.errors",
    "StoreError": "r2k.errors",
    "DataQualityWarning": "r2k.errors",
    # rules
    "RuleSet": "r2k.methodology.rule_sets",
    "rule_set_for": "r2k.methodology.rule_sets",
    # construction
    "build_universe": "r2k.construction.universe",
    "reconstitute": "r2k.construction.reconstitution",
    "Reconstitution": "r2k.construction.reconstitution",
    # maintenance and calculation
    "MarketHistory": "r2k.maintenance.market",
    "IndexState": "r2k.maintenance.state",
    "ReconDecision": "r2k.maintenance.state",
    "Settings": "r2k.maintenance.settings",
    "Calculation": "r2k.maintenance.engine",
    "initial_state": "r2k.maintenance.state",
    "calculate": "r2k.maintenance.engine",
    "calculate_session": "r2k.maintenance.engine",
    # data
    "DataDir": "r2k.data.datadir",
    "Store": "r2k.data.store",
    # synthetic sources
    "synthetic_universe": "r2k.synthetic.universe",
    "synthetic_market": "r2k.synthetic.market",
    # analytics
    "analyze": "r2k.analytics.analysis",
    "Analysis": "r2k.analytics.analysis",
    # workflows
    "run_reconstitution": "r2k.workflows.pipeline",
    "ReconRun": "r2k.workflows.pipeline",
    "calculate_real": "r2k.workflows.real_index",
    "RealRun": "r2k.workflows.real_index",
    "analyze_index": "r2k.workflows.explain",
}

__all__ = [
    "INDEX_CODES",
    "INDEX_LABELS",
    "Analysis",
    "Calculation",
    "DataDir",
    "DataDirectoryError",
    "DataQualityWarning",
    "IndexCode",
    "IndexState",
    "InputError",
    "MarketHistory",
    "MethodologyError",
    "MissingDataError",
    "NotSessionError",
    "R2KError",
    "RealRun",
    "ReconDecision",
    "ReconRun",
    "Reconstitution",
    "RuleSet",
    "SchemaError",
    "Settings",
    "SourceFormatError",
    "Store",
    "StoreError",
    "__version__",
    "analyze",
    "analyze_index",
    "build_universe",
    "calculate",
    "calculate_real",
    "calculate_session",
    "initial_state",
    "reconstitute",
    "rule_set_for",
    "run_reconstitution",
    "synthetic_market",
    "synthetic_universe",
]

if TYPE_CHECKING:
    from r2k._typing import INDEX_CODES, INDEX_LABELS, IndexCode
    from r2k.analytics.analysis import Analysis, analyze
    from r2k.construction.reconstitution import Reconstitution, reconstitute
    from r2k.construction.universe import build_universe
    from r2k.data.datadir import DataDir
    from r2k.data.store import Store
    from r2k.errors import (
        DataDirectoryError,
        DataQualityWarning,
        InputError,
        MethodologyError,
        MissingDataError,
        NotSessionError,
        R2KError,
        SchemaError,
        SourceFormatError,
        StoreError,
    )
    from r2k.maintenance.engine import Calculation, calculate, calculate_session
    from r2k.maintenance.market import MarketHistory
    from r2k.maintenance.settings import Settings
    from r2k.maintenance.state import IndexState, ReconDecision, initial_state
    from r2k.methodology.rule_sets import RuleSet, rule_set_for
    from r2k.synthetic.market import synthetic_market
    from r2k.synthetic.universe import synthetic_universe
    from r2k.workflows.explain import analyze_index
    from r2k.workflows.pipeline import ReconRun, run_reconstitution
    from r2k.workflows.real_index import RealRun, calculate_real


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'r2k' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
