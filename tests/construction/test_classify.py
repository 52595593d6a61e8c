"""r2k.construction.classify: security types, share classes, company keys."""

from __future__ import annotations

import typing
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_series_equal

from r2k._typing import SecurityType
from r2k.construction.classify import (
    RULES,
    classify_security,
    company_key,
    company_key_expr,
    security_type_expr,
    share_class_expr,
    share_class_of,
)
from r2k.data.sources.ishares import read_holdings
from r2k.data.sources.panel import cross_section

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

ELIGIBLE = {"common", "ordinary", "class_share"}

# Real names from the market panel (exact strings) with the type they must get.
PANEL_NAMES: list[tuple[str, SecurityType]] = [
    # common
    ("Apple Inc. Common Stock", "common"),
    ("Visa Inc.", "common"),
    ("Berkshire Hathaway Inc.", "common"),
    ("Preferred Bank Common Stock", "common"),
    ("Northern Trust Corporation Common Stock", "common"),
    ("Washington Trust Bancorp Inc. Common Stock", "common"),
    ("Community Trust Bancorp Inc. Common Stock", "common"),
    ("Vornado Realty Trust Common Stock", "common"),
    ("Redwood Trust Inc. Common Stock", "common"),
    ("Equity Residential Common Shares of Beneficial Interest", "common"),
    ("Pebblebrook Hotel Trust Common Shares of Beneficial Interest", "common"),
    ("D/B/A Compass Diversified Holdings Shares of Beneficial Interest", "common"),
    ("Star Holdings Shares of Beneficial Interest", "common"),
    ("Vertiv Holdings LLC Class A Common Stock", "class_share"),
    ("Boise Cascade L.L.C. Common Stock", "common"),
    ("Enterprise Products Partners L.P. Common Stock", "partnership"),
    ("Farmland Partners Inc. Common Stock", "common"),
    ("CVR Energy Inc. Common Stock", "common"),
    ("Runway Growth Finance Corp. Common Stock", "common"),
    ("Algonquin Power & Utilities Corp. Common Shares", "common"),
    ("Eastman Kodak Company Common New", "common"),
    # class shares
    ("Alphabet Inc. Class C Capital Stock", "class_share"),
    ("Alphabet Inc. Class A Common Stock", "class_share"),
    (
        "Liberty Media Corporation Series A Liberty Formula One Common Stock",
        "class_share",
    ),
    ("Atlanta Braves Holdings Inc. Series C Common Stock", "class_share"),
    ("Rush Enterprises Inc. Common Stock Cl A", "class_share"),
    ("Rush Enterprises Inc. Class B", "class_share"),
    (
        "Brookfield Renewable Corporation Brookfield Renewable Corporation "
        "Class A Subordinate Voting Shares",
        "class_share",
    ),
    # ordinary shares
    ("Aon plc Class A Ordinary Shares (Ireland)", "ordinary"),
    ("Stratasys Ltd. Ordinary Shares (Israel)", "ordinary"),
    ("Kiniksa Pharmaceuticals International plc Class A Ordinary Shares", "ordinary"),
    # depositary
    ("Belite Bio Inc American Depositary Shares", "depositary"),
    ("Carnival Plc ADS ADS", "depositary"),
    (
        "Sea Limited American Depositary Shares each representing one Class A "
        "Ordinary Share",
        "depositary",
    ),
    # warrants and rights
    ("AleAnna Inc. Warrant", "warrant"),
    ("Presidio Property Trust Inc. Series A Common Stock Purchase Warrants", "warrant"),
    ("Translational Development Acquisition Corp. Warrants", "warrant"),
    ("Innovative Eyewear Inc. Series A Warrants 8/16/27", "warrant"),
    ("Silver Pegasus Acquisition Corp Rights.", "right"),
    ("AmperCap Acquisition Company Right", "right"),
    # units
    ("Churchill Capital Corp X Unit", "unit"),
    ("Pioneer Acquisition I Corp Units", "unit"),
    ("Novanta Inc. Tangible Equity Units", "unit"),
    ("NextEra Energy Inc. 7.234% Corporate Units", "unit"),
    ("Southern Company (The) 2025 Series A Corporate Units", "unit"),
    # preferred
    (
        "Public Storage Depositary Shares Each Representing 1/1000 of a 5.05% "
        "Cumulative Preferred Share of Beneficial Interest Series G",
        "preferred",
    ),
    (
        "Northern Trust Corporation Depositary Shares Each Representing a 1/1000th "
        "Interest in a Share of Series E Non-Cumulative Perpetual Preferred Stock",
        "preferred",
    ),
    ("Annaly Capital Management Inc 6.95% Series F", "preferred"),
    ("Morgan Stanley Dep Shs Rpstg 1/1000th Int Prd Ser F Fxd to Flag", "preferred"),
    ("First Merchants Corporation Depository Shares", "preferred"),
    ("Fifth Third Bancorp Depositary Shares", "preferred"),
    ("Energy Transfer L.P. Series I Fixed Rate Perpetual Preferred Units", "preferred"),
    ("Dillard's Capital Trust I", "preferred"),
    (
        "Popular Inc. Popular Capital Trust II - 6.125% Cumulative Monthly Income "
        "Trust Preferred Securities",
        "preferred",
    ),
    (
        "Liberty Broadband Corporation Series A Cumulative Redeemable Preferred Stock",
        "preferred",
    ),
    # notes
    ("Adamas Trust Inc. 9.125% Senior Notes Due 2029", "note"),
    ("Qwest Corporation 6.75% Notes due 2057", "note"),
    (
        "Entergy Arkansas LLC First Mortgage Bonds 4.875% Series Due September 1 2066",
        "note",
    ),
    ("Comcast Holdings ZONES", "note"),
    (
        "Structured Products Corp 8.205% CorTS 8.205% Corporate Backed Trust "
        "Securities (CorTS)",
        "note",
    ),
    ("Crescent Capital BDC Inc. 5.00% Notes due 2026", "note"),
    # closed-end funds
    ("Adams Diversified Equity Fund Inc.", "closed_end_fund"),
    ("Nuveen Quality Municipal Income Fund Common Stock", "closed_end_fund"),
    (
        "BlackRock Science and Technology Trust Common Shares of Beneficial Interest",
        "closed_end_fund",
    ),
    ("Gabelli Equity Trust Inc. (The) Common Stock", "closed_end_fund"),
    ("Royce Small-Cap Trust Inc. Common Stock", "closed_end_fund"),
    (
        "John Hancock Preferred Income Fund Common Shares of Beneficial Interest",
        "closed_end_fund",
    ),
    ("Flaherty & Crumrine Preferred and Income Fund Incorporated", "closed_end_fund"),
    ("abrdn Healthcare Investors Shares of Beneficial Interest", "closed_end_fund"),
    ("Eagle Point Credit Company Inc. Common Stock", "closed_end_fund"),
    # ETFs
    ("VanEck Solana ETF Shares of Beneficial Interest", "etf"),
    ("Texas Precious Metals Trust Y'all Street Physical Gold ETF", "etf"),
    # SPACs
    ("Keystone Acquisition Corp. Class A Ordinary Shares", "spac"),
    ("Siddhi Acquisition Corp Class A Common stock", "spac"),
    ("Churchill Capital Corp X Class A Ordinary Shares", "spac"),
    ("Cantor Equity Partners VI Inc. Class A Ordinary Shares", "spac"),
    ("Gores Holdings X Inc. Class A ordinary shares", "spac"),
    ("Highview Merger Corp. Class A Ordinary Share", "spac"),
    ("Xsolla SPAC 1 Class A Ordinary Shares", "spac"),
    # partnerships
    ("Energy Transfer LP Common Units ", "partnership"),
    ("MPLX LP Common Units Representing Limited Partner Interests", "partnership"),
    (
        "Kimbell Royalty Partners Common Units Representing Limited Partner Interests",
        "partnership",
    ),
    ("AllianceBernstein Holding L.P.  Units", "partnership"),
    ("Hess Midstream LP Class A Representing Limited Partner Interests", "partnership"),
    (
        "New England Realty Associates Limited Partnership Class A Depositary "
        "Receipts Evidencing Units of Limited Partnership",
        "partnership",
    ),
    # LLCs
    ("Five Point Holdings LLC Class A Common Shares", "llc"),
    ("MDB Capital Holdings LLC Class A common", "llc"),
    # BDCs (only where the name says so)
    ("Barings BDC Inc. Common Stock", "bdc"),
    ("Gladstone Investment Corporation Business Development Company", "bdc"),
    # royalty and grantor trusts
    ("Permian Basin Royalty Trust Common Stock", "trust"),
    ("North European Oil Royality Trust Common Stock", "trust"),
    ("VOC Energy Trust Units of Beneficial Interest", "trust"),
    ("Mesabi Trust Common Stock", "trust"),
    ("Osprey Bitcoin Trust Common Units of Beneficial Interest", "trust"),
    # other
    ("Honeywell International Inc. Common Stock Ex Distribution When Issued", "other"),
    ("Octave Intelligence plc Class B Ordinary Shares When Issued", "other"),
]

# iShares-style names (upper case, abbreviated) with their venue.
ISHARES_NAMES: list[tuple[str, str | None, SecurityType]] = [
    ("HIMS HERS HEALTH INC CLASS A", "New York Stock Exchange Inc.", "class_share"),
    ("APPLE INC", "NASDAQ", "common"),
    ("PREFERRED BANK", "NASDAQ", "common"),
    ("CHINOOK THERAPEUTICS INC CVR", "NO MARKET (E.G. UNLISTED)", "right"),
    ("GTXI INC - CVR", "NASDAQ", "right"),
    ("CHINOOK THERAPEUTICS INC", "NO MARKET (E.G. UNLISTED)", "other"),
    ("M TRON INDUSTRIES RIGHTS EXPIRY TH", "Nyse Mkt Llc", "right"),
    ("PULSE BIOSCIENCE INC WARRANTS", "NO MARKET (E.G. UNLISTED)", "warrant"),
    ("OMNIAB INC $15.00 VESTING Prvt", "NO MARKET (E.G. UNLISTED)", "other"),
    ("Petrocorp Inc Escrow", "Non-Nms Quotation Service (Nnqs)", "other"),
    ("STAR HOLDINGS SHARES OF BENEFICIAL", "NASDAQ", "common"),
]


def test_table_covers_every_type() -> None:
    covered = {kind for _, kind in PANEL_NAMES}
    assert covered == set(typing.get_args(SecurityType))
    assert len(PANEL_NAMES) >= 60


def test_rules_use_the_vocabulary() -> None:
    vocabulary = set(typing.get_args(SecurityType))
    assert {rule.security_type for rule in RULES} <= vocabulary


@pytest.mark.parametrize(("name", "expected"), PANEL_NAMES)
def test_panel_names(name: str, expected: SecurityType) -> None:
    assert classify_security(name) == expected


@pytest.mark.parametrize(("name", "exchange", "expected"), ISHARES_NAMES)
def test_ishares_names(name: str, exchange: str | None, expected: SecurityType) -> None:
    assert classify_security(name, exchange) == expected


@pytest.mark.parametrize(
    ("name", "symbol", "expected"),
    [
        ("Citigroup Inc.", "C^R", "preferred"),  # issuer-only name of a preferred
        ("Dime Community Bancshares Inc.", "DCOM^", "preferred"),
        ("Citigroup Inc.", "C", "common"),
        # Nasdaq keeps a stale "When Issued" label on Cavco; its symbol has no V.
        ("Cavco Industries Inc. Common Stock When Issued", "CVCO", "common"),
        (
            "Honeywell International Inc. Common Stock Ex Distribution When Issued",
            "HONIV",
            "other",
        ),
        ("Cavco Industries Inc. Common Stock When Issued", None, "other"),
    ],
)
def test_symbol_adjustments(
    name: str, symbol: str | None, expected: SecurityType
) -> None:
    assert classify_security(name, symbol=symbol) == expected


def test_expression_matches_scalar_on_tables() -> None:
    extra_names: list[str | None] = [
        "Citigroup Inc.",
        "Cavco Industries Inc. Common Stock When Issued",
        None,
    ]
    extra_exchanges: list[str | None] = [None, None, "NASDAQ"]
    symbols: list[str | None] = [None] * len(ISHARES_NAMES) + ["C^R", "CVCO", "X"]
    frame = pl.DataFrame(
        {
            "name": [*(n for n, _, _ in ISHARES_NAMES), *extra_names],
            "exchange": [e for _, e, _ in ISHARES_NAMES] + extra_exchanges,
            "symbol": symbols,
        }
    )
    got = frame.select(
        security_type_expr(exchange_col="exchange", symbol_col="symbol")
    ).to_series()
    expected = [
        classify_security(n, e, symbol=s) if n is not None else None
        for n, e, s in frame.iter_rows()
    ]
    assert got.to_list() == expected


# --- real data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def names(market_panel: pl.DataFrame) -> pl.DataFrame:
    """Every distinct (security_id, name) of the real panel."""
    return (
        market_panel.select("security_id", "name").unique().sort("security_id", "name")
    )


def test_table_names_are_real(names: pl.DataFrame) -> None:
    real = set(names.get_column("name").to_list())
    assert [n for n, _ in PANEL_NAMES if n not in real] == []


def test_expression_equals_scalar_on_every_panel_name(names: pl.DataFrame) -> None:
    for symbol_col in (None, "security_id"):
        got = names.select(security_type_expr(symbol_col=symbol_col)).to_series()
        expected = pl.Series(
            "security_type",
            [
                classify_security(n, symbol=s if symbol_col else None)
                for s, n in names.iter_rows()
            ],
        )
        assert_series_equal(got, expected)


def test_company_key_expression_equals_scalar(names: pl.DataFrame) -> None:
    got = names.select(company_key_expr()).to_series()
    expected = pl.Series("company_key", [company_key(n) for n in names["name"]])
    assert_series_equal(got, expected)
    assert (got.str.len_chars() > 0).all()


def test_share_class_expression_equals_scalar(names: pl.DataFrame) -> None:
    got = names.select(share_class_expr()).to_series()
    expected = pl.Series(
        "share_class",
        [share_class_of(n, s) for s, n in names.iter_rows()],
        dtype=pl.String,
    )
    assert_series_equal(got, expected)


def test_rank_day_distribution(market_panel: pl.DataFrame) -> None:
    day = cross_section(market_panel, date(2026, 4, 30)).with_columns(
        security_type_expr(symbol_col="security_id")
    )
    counts = dict(day.get_column("security_type").value_counts().iter_rows())
    assert sum(counts.values()) == 5_385
    assert counts == {
        "common": 3_202,
        "class_share": 514,
        "preferred": 434,
        "closed_end_fund": 308,
        "warrant": 253,
        "note": 182,
        "spac": 173,
        "unit": 130,
        "ordinary": 64,
        "right": 58,
        "partnership": 32,
        "depositary": 13,
        "trust": 12,
        "bdc": 8,
        "llc": 2,
    }
    eligible = day.filter(pl.col("security_type").is_in(ELIGIBLE))
    words = (
        r"(?i)\b(warrants?|units?|rights?|preferred|notes?|debentures?|acquisitions?"
        r"|funds?|etf|depositary|royalty)\b"
    )
    flagged = eligible.filter(pl.col("name").str.contains(words))
    # Issuer names only: Preferred Bank, Royalty Pharma, Royalty Management, XOMA.
    assert sorted(flagged.get_column("security_id").to_list()) == [
        "PFBC",
        "RMCO",
        "RPRX",
        "XOMA",
    ]
    warrants_as_common = day.filter(
        pl.col("name").str.contains("(?i)warrant")
        & (pl.col("security_type") == "common")
    )
    assert warrants_as_common.height == 0


def test_iwm_holdings_are_eligible_types(
    market_panel: pl.DataFrame, data_dir: DataDir
) -> None:
    # IWM replicates the Russell 2000: every holding the panel prices on the
    # holdings date must classify as an eligible equity type.
    for as_of in (date(2026, 4, 10), date(2026, 5, 5)):
        held = read_holdings(data_dir.ishares_dir / f"IWM_{as_of.isoformat()}.csv")
        day = cross_section(market_panel, as_of).with_columns(
            security_type_expr(symbol_col="security_id")
        )
        matched = held.equities.select("security_id").join(day, on="security_id")
        assert matched.height > 1_750
        wrong = matched.filter(~pl.col("security_type").is_in(ELIGIBLE))
        assert wrong.height == 0, wrong.select("security_id", "name", "security_type")


def test_ishares_expression_equals_scalar(data_dir: DataDir) -> None:
    for path in data_dir.holdings_files("IWM") + data_dir.holdings_files("IWV"):
        frame = read_holdings(path).frame
        got = frame.select(
            security_type_expr(exchange_col="exchange", symbol_col="ticker")
        )
        expected = [
            classify_security(n, e, symbol=t)
            for n, e, t in frame.select("name", "exchange", "ticker").iter_rows()
        ]
        assert got.to_series().to_list() == expected


# --- share classes and company keys -------------------------------------------------

MULTI_CLASS = [
    ("GOOG", "GOOGL"),
    ("FOX", "FOXA"),
    ("NWS", "NWSA"),
    ("Z", "ZG"),
    ("LBRDA", "LBRDK"),
    ("BATRA", "BATRK"),
    ("UA", "UAA"),
    ("BRK.A", "BRK.B"),
    ("BF.A", "BF.B"),
    ("CRD.A", "CRD.B"),
    ("FWONA", "FWONK"),
]


@pytest.mark.parametrize("pair", MULTI_CLASS)
def test_share_classes_of_one_company_share_a_key(
    names: pl.DataFrame, pair: tuple[str, str]
) -> None:
    rows = names.filter(pl.col("security_id").is_in(pair))
    assert set(rows.get_column("security_id").to_list()) == set(pair)
    keys = {company_key(n) for n in rows.get_column("name").to_list()}
    assert len(keys) == 1
    classes = {share_class_of(n, s) for s, n in rows.iter_rows()}
    assert len(classes) == 2
    assert None not in classes


def test_multi_class_keys_are_distinct(names: pl.DataFrame) -> None:
    first = [a for a, _ in MULTI_CLASS]
    rows = names.filter(pl.col("security_id").is_in(first))
    keys = [company_key(n) for n in rows.get_column("name").to_list()]
    assert len(set(keys)) == len(MULTI_CLASS)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (
            "Alphabet Inc. Class A Common Stock",
            "Alphabet Inc. Class C Capital Stock",
            True,
        ),
        (
            "Liberty Media Corporation Series A Liberty Formula One Common Stock",
            "Liberty Media Corporation Series C Liberty Formula One Common Stock",
            True,
        ),
        (
            "Liberty Media Corporation Series A Liberty Formula One Common Stock",
            "Liberty Media Corporation Series A Liberty Live Common Stock",
            False,
        ),
        ("Heico Corporation Common Stock", "Heico Corporation", True),
        (
            "Rush Enterprises Inc. Common Stock Cl A",
            "Rush Enterprises Inc. Class B",
            True,
        ),
        (
            "Liberty Latin America Ltd. Class A Common Stock",
            "Liberty Latin America Ltd Class C Common Stock",
            True,
        ),
        (
            "Adamas Trust Inc. Common Stock",
            "Adamas Trust Inc. 9.125% Senior Notes Due 2029",
            True,
        ),
        (
            "Fox Corporation Class A Common Stock",
            "News Corporation Class A Common Stock",
            False,
        ),
        ("Unit Corporation Common Stock", "Unit Corporation Warrants", True),
    ],
)
def test_company_key_pairs(a: str, b: str, same: bool) -> None:
    assert (company_key(a) == company_key(b)) is same


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Alphabet Inc. Class A Common Stock", "alphabet"),
        (
            "Liberty Media Corporation Series C Liberty Formula One Common Stock",
            "liberty media liberty formula one",
        ),
        ("Brown Forman Corporation", "brown forman"),
        (
            "Public Storage Depositary Shares Each Representing 1/1000 of a 5.05% "
            "Cumulative Preferred Share",
            "public storage",
        ),
        ("Crawford & Company", "crawford"),
        ("Unit Corporation Common Stock", "unit"),
        ("Stock Yards Bancorp Inc. Common Stock", "stock yards bancorp"),
    ],
)
def test_company_key_values(name: str, expected: str) -> None:
    assert company_key(name) == expected


@pytest.mark.parametrize(
    ("name", "security_id", "expected"),
    [
        ("Alphabet Inc. Class C Capital Stock", "GOOG", "C"),
        (
            "Liberty Media Corporation Series A Liberty Formula One Common Stock",
            "FWONA",
            "A",
        ),
        ("Rush Enterprises Inc. Common Stock Cl A", "RUSHA", "A"),
        ("Berkshire Hathaway Inc.", "BRK.B", "B"),
        ("Berkshire Hathaway Inc.", "BRK/B", "B"),
        ("Moog Inc.", "MOG A", "A"),
        ("Apple Inc. Common Stock", "AAPL", None),
        ("HIMS HERS HEALTH INC CLASS A", "HIMS", "A"),
    ],
)
def test_share_class_of(name: str, security_id: str, expected: str | None) -> None:
    assert share_class_of(name, security_id) == expected


def test_null_name_gives_null_type() -> None:
    frame = pl.DataFrame(
        {"name": [None, "Apple Inc. Common Stock"]}, schema={"name": pl.String}
    )
    got = frame.select(security_type_expr(), company_key_expr())
    assert got.row(0) == (None, None)
    assert got.row(1) == ("common", "apple")
