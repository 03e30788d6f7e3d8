"""Tables, plots and the HTML report of a :class:`~hashpivot.compare.Comparison`.

:func:`write_report` writes one folder, atomically (built in a temporary sibling folder and
renamed into place; a failure leaves nothing behind and an earlier report untouched):

* ``report.html`` — self-contained: styles inline, every chart embedded as a ``data:`` PNG,
  no script, no font or stylesheet from the network, so it opens offline;
* one PNG per chart (:data:`CHARTS`, each :data:`CHART_SIZE_PX` pixels);
* the frames as Parquet (and the decision table also as CSV), and ``manifest.json``
  (``"tool": "hashpivot"`` and ``"files"``, the list of files written).

An existing folder is replaced only when it is empty or an earlier report that holds nothing
but the files its manifest lists; anything else (a folder with another ``manifest.json``, a
file added to an earlier report) raises :class:`~hashpivot.exceptions.OutputError` and nothing
is deleted.

Plots need matplotlib (``pip install 'hashpivot[report]'``); without it the report has
the tables and frames, a note where the charts would be, and :func:`write_report` returns the
note in :attr:`ReportFiles.warnings`. Choices are documented in ``docs/compare.md``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from hashpivot._folders import replace_folder
from hashpivot.compare import Comparison
from hashpivot.exceptions import OutputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CHARTS",
    "CHART_SIZE_PX",
    "MANIFEST",
    "ReportFiles",
    "check_target",
    "format_decision",
    "usd",
    "write_report",
]

#: Chart file stem → title, in report order.
CHARTS: dict[str, str] = {
    "price_fan": "BTC price: quantile fan over paths",
    "hashprice_fan": "Hashprice: quantile fan over paths",
    "difficulty": "Difficulty path with retarget dates",
    "cost_curve": "The fleet on the network cost curve",
    "npv_distributions": "NPV distribution per strategy",
    "cash_flows": "Cash-flow timeline of the best strategy",
}
#: Width × height of every chart in pixels (10 × 4.8 in at 100 dpi).
CHART_SIZE_PX = (1000, 480)
_DPI = 100
#: The manifest file that marks a folder as a hashpivot report: JSON with ``"tool":
#: "hashpivot"`` and ``"files"``, the files the report wrote. Only those may be replaced.
MANIFEST = "manifest.json"

_FILES_PARQUET = (
    "decision",
    "summary",
    "per_path",
    "by_model",
    "flexibility",
    "failures",
    "fans",
    "retargets",
    "paths_sample",
    "cost_curve",
    "fleet_economics",
    "best_cash_flows",
)


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote: the folder, its files, and warnings."""

    folder: Path
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def html(self) -> Path:
        """The report page."""
        return self.folder / "report.html"


# --------------------------------------------------------------------------- formatting


def usd(x: float | None) -> str:
    """USD with k/M/bn and a true minus sign, for people."""
    if x is None:
        return "–"
    a = abs(x)
    sign = "−" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.2f} bn"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.1f} M"
    if a >= 1e3:
        return f"{sign}${a / 1e3:,.0f} k"
    return f"{sign}${a:,.0f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %".replace("-", "−")


def _payback(median: float | None, share: float | None) -> str:
    if median is None or share is None or share < 0.5:
        return "beyond horizon"  # most paths never pay back: the median path does not
    return f"{median:.1f} y"


def _irr(median: float | None, share: float | None) -> str:
    # an IRR exists only where the flows are an investment with one sign change; below half
    # the paths the median of those few is not the median path's
    if share is None or share < 0.5:
        return "–"
    return _pct(median)


def format_decision(cmp: Comparison) -> pl.DataFrame:
    """The decision table with human units (strings), for printing."""
    d = cmp.decision
    rows = []
    for r in d.iter_rows(named=True):
        rows.append(
            {
                "#": r["rank"],
                "strategy": r["strategy"],
                "kind": "flexible" if r["flexible"] else "fixed",
                "NPV mean": usd(r["mean_npv_usd"]),
                "NPV p5": usd(r["npv_q05_usd"]),
                "NPV median": usd(r["npv_q50_usd"]),
                "NPV p95": usd(r["npv_q95_usd"]),
                "P(loss)": _pct(r["p_loss"]),
                f"CVaR {cmp.config.cvar_level * 100:g}%": usd(r["cvar_usd"]),
                "payback (median)": _payback(r["median_payback_years"], r["share_paid_back"]),
                "IRR (median)": _irr(r["median_irr"], r["share_irr_defined"]),
            }
        )
    return pl.DataFrame(rows)


# --------------------------------------------------------------------------- charts


def _fig() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(CHART_SIZE_PX[0] / _DPI, CHART_SIZE_PX[1] / _DPI), dpi=_DPI)
    ax = fig.add_subplot()
    ax.grid(True, alpha=0.3)
    return fig, ax


def _dates(s: pl.Series) -> Any:
    return s.dt.replace_time_zone(None).to_numpy()


def _fan(ax: Axes, fans: pl.DataFrame, column: str, scale: float, color: str) -> None:
    f = fans.filter(pl.col("column") == column).sort("date")
    x = _dates(f["date"])
    ax.fill_between(x, f["q05"] * scale, f["q95"] * scale, color=color, alpha=0.18, label="5–95 %")
    ax.fill_between(x, f["q25"] * scale, f["q75"] * scale, color=color, alpha=0.35, label="25–75 %")
    ax.plot(x, f["q50"] * scale, color=color, lw=2, label="median")


def _chart_price(cmp: Comparison) -> Figure:
    fig, ax = _fig()
    _fan(ax, cmp.fans, "price_usd", 1.0, "#f2a900")
    ax.axhline(float(cmp.start["price_usd"][0]), color="k", lw=0.8, ls=":", label="start")
    ax.set_yscale("log")
    ax.set_ylabel("BTC price (USD, log scale)")
    ax.set_title(CHARTS["price_fan"])
    ax.legend(loc="upper left")
    return fig


def _chart_hashprice(cmp: Comparison) -> Figure:
    fig, ax = _fig()
    _fan(ax, cmp.fans, "hashprice_usd_ph_day", 1.0, "#1f77b4")
    for s in cmp.config.strategies:
        for attr in ("below", "above"):
            v = getattr(s, attr, None)
            if v is not None and getattr(s, "signal", "") == "hashprice_usd_ph_day":
                ax.axhline(
                    v, color="#d62728", ls="--", lw=1, label=f"{s.name}: switch {attr} {v:g}"
                )
    ax.set_ylabel("hashprice (USD / PH/s / day)")
    ax.set_ylim(bottom=0)
    ax.set_title(CHARTS["hashprice_fan"])
    ax.legend(loc="upper right")
    return fig


def _chart_difficulty(cmp: Comparison) -> Figure:
    fig, ax = _fig()
    _fan(ax, cmp.fans, "difficulty", 1e-12, "#2ca02c")
    sample = cmp.paths_sample
    for p in range(min(3, int(sample["path"].n_unique()))):
        one = sample.filter(pl.col("path") == p)
        ax.step(
            _dates(one["date"]),
            one["difficulty"] * 1e-12,
            where="post",
            lw=0.8,
            alpha=0.8,
            label="sample paths" if p == 0 else None,
        )
    rt = cmp.retargets.filter(pl.col("paths") >= pl.col("paths").max() * 0.5)
    if rt.height:
        lo, hi = ax.get_ylim()
        ax.vlines(
            _dates(rt["time_q50"]),
            lo,
            lo + (hi - lo) * 0.04,
            color="k",
            lw=0.8,
            label="median retarget dates",
        )
        ax.set_ylim(lo, hi)
    ax.set_ylabel("difficulty (T)")
    ax.set_title(CHARTS["difficulty"])
    ax.legend(loc="upper left")
    return fig


def _chart_cost_curve(cmp: Comparison) -> Figure:
    fig, ax = _fig()
    c = cmp.cost_curve
    ehs = c["hashrate_ths"] / 1e6
    left = (c["cum_hashrate_ths"] / 1e6) - ehs
    ax.bar(
        left.to_list(),
        c["cash_cost_usd_per_btc"].to_list(),
        width=ehs.to_list(),
        align="edge",
        color="#9ecae1",
        edgecolor="#3182bd",
        label="network classes (cash cost)",
    )
    for lx, w, e in zip(left.to_list(), ehs.to_list(), c["efficiency_jth"].to_list(), strict=True):
        ax.text(lx + w / 2, 0, f"{e:g} J/TH", ha="center", va="bottom", fontsize=8)
    price = float(cmp.start["price_usd"][0])
    ax.axhline(price, color="#f2a900", lw=2, label=f"BTC price ${price:,.0f}")
    eff = c["efficiency_jth"].to_list()
    cum = (c["cum_hashrate_ths"] / 1e6).to_list()
    lefts = left.to_list()
    fe = cmp.fleet_economics
    for r in fe.iter_rows(named=True):
        # place the class where its efficiency falls on the network curve
        x = lefts[0]
        for i, e in enumerate(eff):
            if r["efficiency_jth"] >= e:
                x = (lefts[i] + cum[i]) / 2
        ax.plot(
            [x],
            [r["cash_cost_usd_per_btc"]],
            marker="D",
            ms=9,
            ls="none",
            label=f"site: {r['model']} ×{r['count']:,}",
        )
    ax.set_xlabel("cumulative network hashrate (EH/s)")
    ax.set_ylabel("cash cost (USD / BTC)")
    ax.set_title(CHARTS["cost_curve"])
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _chart_npv(cmp: Comparison) -> Figure:
    fig, ax = _fig()
    order = cmp.decision["strategy"].to_list()[::-1]
    pp = cmp.evaluation.per_path
    data = [(pp.filter(pl.col("strategy") == s)["npv_usd"] / 1e6).to_numpy() for s in order]
    if data:
        parts = ax.violinplot(data, orientation="horizontal", showmedians=True, showextrema=False)
        for b in parts["bodies"]:  # type: ignore[attr-defined]
            b.set_alpha(0.6)
        ax.set_yticks(range(1, len(order) + 1), order)
    ax.axvline(0, color="#d62728", lw=1)
    ax.set_xlabel("NPV (USD millions)")
    ax.set_title(CHARTS["npv_distributions"])
    return fig


def _chart_cash_flows(cmp: Comparison) -> Figure:
    fig, ax = _fig()
    cf = cmp.best_cash_flows
    if cf.height:
        x_all = cf["month"].unique().sort()
        xs = _dates(x_all)
        width = 25.0
        pos = [0.0] * len(xs)
        neg = [0.0] * len(xs)
        idx = {v: i for i, v in enumerate(x_all.to_list())}
        for model in cf["model"].unique().sort().to_list():
            m = cf.filter(pl.col("model") == model)
            rev = [0.0] * len(xs)
            cost = [0.0] * len(xs)
            for r in m.iter_rows(named=True):
                i = idx[r["month"]]
                rev[i] = r["revenue_usd"] / 1e6
                cost[i] = -(r["opex_usd"] + r["capex_usd"]) / 1e6
            ax.bar(xs, rev, width=width, bottom=pos, label=f"{model} revenue")
            ax.bar(xs, cost, width=width, bottom=neg, alpha=0.6, label=f"{model} opex + capex")
            pos = [a + b for a, b in zip(pos, rev, strict=True)]
            neg = [a + b for a, b in zip(neg, cost, strict=True)]
        net = cf.group_by("month").agg(pl.col("net_usd").sum()).sort("month")
        ax2 = ax.twinx()
        ax2.plot(
            _dates(net["month"]),
            net["net_usd"].cum_sum() / 1e6,
            color="k",
            lw=2,
            label="cumulative net",
        )
        ax2.set_ylabel("cumulative net (USD millions)")
        ax2.legend(loc="lower right", fontsize=8)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("monthly flows (USD millions, mean over paths)")
    ax.set_title(f"{CHARTS['cash_flows']}: {cmp.best}")
    ax.legend(loc="upper left", fontsize=7, ncol=2)
    return fig


_CHART_FUNCS: dict[str, Callable[[Comparison], Figure]] = {
    "price_fan": _chart_price,
    "hashprice_fan": _chart_hashprice,
    "difficulty": _chart_difficulty,
    "cost_curve": _chart_cost_curve,
    "npv_distributions": _chart_npv,
    "cash_flows": _chart_cash_flows,
}


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def render_charts(cmp: Comparison) -> tuple[dict[str, bytes], list[str]]:
    """Every chart as PNG bytes (name → bytes) and warnings (matplotlib missing)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return {}, ["charts left out: matplotlib is not installed; pip install 'hashpivot[report]'"]
    return {name: _png(fn(cmp)) for name, fn in _CHART_FUNCS.items()}, []


# --------------------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
max-width:1060px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
tr.best td{background:#eaf6ea;font-weight:600}
.note{color:#666;font-size:.85em}.warn{color:#a40;font-weight:600}
figure{margin:1em 0}figcaption{font-size:.85em;color:#555}
img{display:block;outline:1px solid #eee}
"""


def _table_html(df: pl.DataFrame, best_first: bool = False) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for i, r in enumerate(df.iter_rows()):
        cls = ' class="best"' if best_first and i == 0 else ""
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r)
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _fleet_table(cmp: Comparison) -> pl.DataFrame:
    fe = cmp.fleet_economics
    return pl.DataFrame(
        {
            "model": fe["model"],
            "count": fe["count"].map_elements(lambda v: f"{v:,}", return_dtype=pl.String),
            "J/TH": fe["efficiency_jth"].round(1),
            "PH/s": (fe["hashrate_ths"] / 1e3).round(1),
            "margin / day": fe["margin_usd_day"].map_elements(usd, return_dtype=pl.String),
            "breakeven power $/kWh": fe["breakeven_power_price_usd_kwh"].round(4),
            "shutdown BTC price": fe["shutdown_price_usd"].map_elements(
                lambda v: f"${v:,.0f}", return_dtype=pl.String
            ),
            "under water": fe["under_water"],
        }
    )


def _html(cmp: Comparison, charts: dict[str, bytes], warnings: Sequence[str]) -> str:
    cfg = cmp.config
    st = cmp.start.row(0, named=True)
    fl = cmp.evaluation.flexibility.row(0, named=True)
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width, initial-scale=1">',
        f"<title>{esc(cfg.title)} — hashpivot</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(cfg.title)}</h1>",
        f"<p class=note>hashpivot {esc(_version())} · {cfg.paths:,} paths × {cfg.years:g} years · "
        f"seed {cfg.seed} · discount rate {cfg.discount_rate:.1%} · site file "
        f"{esc(str(cfg.source.name) if cfg.source else '(in code)')} · generated "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}</p>",
        f"<p><b>{cfg.site.capacity_mw:g} MW</b> site; fleet "
        f"{cfg.fleet_hashrate_ths / 1e3:,.0f} "
        f"PH/s at {cfg.site.efficiency_jth:.1f} J/TH drawing {cfg.fleet_power_mw:.1f} MW IT; power "
        f"{st['power_price_usd_kwh']:.4f} USD/kWh on day 0 ({esc(cfg.power_contract)}). Start "
        f"{st['date']:%Y-%m-%d} at height {st['height']:,}, difficulty "
        f"{st['difficulty'] / 1e12:,.2f} T, BTC ${st['price_usd']:,.0f}, hashprice "
        f"${st['hashprice_usd_ph_day']:.2f}/PH/day.</p>",
    ]
    for w in [*cmp.notes, *warnings]:
        parts.append(f"<p class=warn>{esc(w)}</p>")
    parts.append("<h2>Decision</h2>")
    if cmp.best is not None:
        parts.append(f"<p>Best by mean NPV: <b>{esc(cmp.best)}</b>.")
        if fl["value_of_flexibility_usd"] is not None:
            parts.append(
                f" Value of flexibility (best flexible <i>{esc(fl['best_flexible'])}</i> minus "
                f"best fixed <i>{esc(fl['best_fixed'])}</i>): "
                f"<b>{usd(fl['value_of_flexibility_usd'])}</b>."
            )
        parts.append("</p>")
    parts.append(_table_html(format_decision(cmp), best_first=True))
    parts.append(
        "<p class=note>NPV at the discount rate over the horizon, per path; quantiles over "
        f"paths; P(loss) = share of paths with NPV &lt; 0; CVaR = mean NPV of the worst "
        f"{cfg.cvar_level:.0%} of paths; payback and IRR are medians over paths (IRR only where "
        "the flows start negative and change sign once). Every economic parameter not from the "
        "protocol or the catalog is illustrative unless your site file sets it.</p>"
    )
    if cmp.evaluation.failures.height:
        parts.append("<h2 class=warn>Plugin failures</h2>")
        parts.append(_table_html(cmp.evaluation.failures))
    parts.append("<h2>Fleet at the start</h2>")
    parts.append(_table_html(_fleet_table(cmp)))
    for name, title in CHARTS.items():
        parts.append(f"<h2>{esc(title)}</h2>")
        png = charts.get(name)
        if png is None:
            parts.append("<p class=warn>chart not rendered (see the note above)</p>")
            continue
        b64 = base64.b64encode(png).decode("ascii")
        wpx, hpx = CHART_SIZE_PX
        parts.append(
            f'<figure><img id="chart-{name}" src="data:image/png;base64,{b64}" width={wpx} '
            f'height={hpx} alt="{esc(title)}"><figcaption>{esc(name)}.png</figcaption></figure>'
        )
    parts.append("<h2>By model</h2>")
    parts.append(_table_html(cmp.evaluation.by_model.with_columns(pl.col(pl.Float64).round(0))))
    t = cmp.timings
    parts.append(
        "<p class=note>Timings: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in t.items())
        + ". Frames: the Parquet files next to this page.</p></body></html>"
    )
    return "".join(parts)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hashpivot")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "(dev)"


# --------------------------------------------------------------------------- writing


def _frames(cmp: Comparison) -> dict[str, pl.DataFrame]:
    ev = cmp.evaluation
    return {
        "decision": cmp.decision,
        "summary": ev.summary,
        "per_path": ev.per_path,
        "by_model": ev.by_model,
        "flexibility": ev.flexibility,
        "failures": ev.failures,
        "fans": cmp.fans,
        "retargets": cmp.retargets,
        "paths_sample": cmp.paths_sample,
        "cost_curve": cmp.cost_curve,
        "fleet_economics": cmp.fleet_economics,
        "best_cash_flows": cmp.best_cash_flows,
    }


def _refuse_foreign(dest: Path, why: str) -> OutputError:
    return OutputError(
        f"{dest}: folder exists, is not empty and is not a hashpivot report ({why}); pass an "
        "empty or new --output folder so nothing of yours is overwritten"
    )


def _listed_files(folder: Path, shown: Path) -> set[str]:
    """The names an earlier report in ``folder`` may hold (its manifest's ``files`` and the
    manifest itself); raise :class:`OutputError` naming ``shown`` unless ``folder`` holds a
    hashpivot manifest: JSON with ``"tool": "hashpivot"`` and a ``"files"`` list of names."""
    path = folder / MANIFEST
    if not path.is_file():
        raise _refuse_foreign(shown, f"no {MANIFEST} file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise _refuse_foreign(shown, f"cannot read its {MANIFEST}: {e.strerror or e}") from e
    try:
        manifest = json.loads(raw)
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise _refuse_foreign(shown, f"its {MANIFEST} is not valid JSON: {where}") from e
    except ValueError as e:  # not UTF-8/16/32
        raise _refuse_foreign(shown, f"its {MANIFEST} is not valid JSON: not UTF-8") from e
    if not isinstance(manifest, dict) or manifest.get("tool") != "hashpivot":
        raise _refuse_foreign(shown, f'its {MANIFEST} does not say "tool": "hashpivot"')
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise _refuse_foreign(shown, f'its {MANIFEST} has no "files" list of the report\'s files')
    return {*files, MANIFEST}


def _first_unlisted(folder: Path, listed: set[str]) -> str | None:
    """The first entry of ``folder`` (relative path, sorted) that is not a listed regular file;
    inside an unlisted folder, its first file (or ``name/`` when it is empty)."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name in listed and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            for root, dirs, names in os.walk(entry):
                dirs.sort()
                links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
                if names or links:  # os.walk lists but does not enter linked folders
                    first = Path(root, sorted(names + links)[0])
                    return first.relative_to(folder).as_posix()
            return f"{entry.name}/"
        return entry.name
    return None


def _check_existing(folder: Path, shown: Path) -> None:
    """Raise :class:`OutputError` (naming ``shown``) unless replacing ``folder`` deletes only
    what an earlier hashpivot report wrote: ``folder`` is empty, or its manifest identifies
    hashpivot and every entry in it is a file that manifest lists."""
    if not folder.is_dir():
        raise OutputError(f"{shown}: exists and is not a folder; pass another --output folder")
    if not any(folder.iterdir()):
        return
    extra = _first_unlisted(folder, _listed_files(folder, shown))
    if extra is not None:
        raise OutputError(
            f"{shown}: earlier hashpivot report holds {extra}, which is not in its {MANIFEST} "
            "(the report did not write it) and would be deleted when the report is replaced; "
            "move it out, or pass another --output"
        )


def check_target(dest: Path) -> None:
    """Raise :class:`OutputError` unless :func:`write_report` may write ``dest``.

    ``dest`` may be new, an empty folder, or an earlier hashpivot report that holds only the
    files its manifest lists; its parent must be an existing folder.
    """
    shown = Path(dest)  # as given, for messages
    dest = Path(os.path.abspath(dest))  # "." and ".." name their folder, not ""
    if dest.exists() or dest.is_symlink():
        _check_existing(dest, shown)
    parent = dest.parent
    if not parent.is_dir():
        blocker = next((a for a in dest.parents if a.exists() or a.is_symlink()), None)
        if blocker is not None and not blocker.is_dir():
            kind = "a file, not a folder" if blocker.is_file() else "not a folder"
            raise OutputError(
                f"{shown}: {blocker} is {kind}; pass an --output path that is not under it"
            )
        raise OutputError(f"{shown}: parent folder {parent} does not exist; create it first")


def write_report(cmp: Comparison, dest: str | os.PathLike[str]) -> ReportFiles:
    """Write the report folder ``dest`` atomically (see the module docstring).

    An existing ``dest`` is replaced only when it is empty or an earlier hashpivot report
    holding nothing but the files its :data:`MANIFEST` lists (the manifest must parse as JSON
    and say ``"tool": "hashpivot"``); anything else raises :class:`OutputError` naming the
    folder (or the first file the report did not write) and is left exactly as is. The check
    runs before any work and again on the swapped-out folder, just before it is deleted.
    """
    check_target(Path(dest))
    shown = Path(dest)
    dest = Path(os.path.abspath(dest))  # "." and ".." name their folder, not ""
    charts, warnings = render_charts(cmp)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; publish with the usual mode
        files = []
        for name, frame in _frames(cmp).items():
            frame.write_parquet(tmp / f"{name}.parquet")
            files.append(f"{name}.parquet")
        cmp.decision.write_csv(tmp / "decision.csv")
        files.append("decision.csv")
        for name, png in charts.items():
            (tmp / f"{name}.png").write_bytes(png)
            files.append(f"{name}.png")
        (tmp / "report.html").write_text(_html(cmp, charts, warnings), encoding="utf-8")
        files.append("report.html")
        cfg = cmp.config
        manifest = {
            "tool": "hashpivot",
            "version": _version(),
            "site_file": str(cfg.source) if cfg.source else None,
            "site_file_sha256": hashlib.sha256(cfg.source.read_bytes()).hexdigest()
            if cfg.source and cfg.source.is_file()
            else None,
            "paths": cfg.paths,
            "years": cfg.years,
            "seed": cfg.seed,
            "best": cmp.best,
            "timings_s": cmp.timings,
            "files": sorted(files),
            "warnings": [*cmp.notes, *warnings],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        files.append(MANIFEST)
        # again on the earlier report: files may have been added while this one was built
        replace_folder(tmp, dest, lambda aside: _check_existing(aside, shown))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportFiles(shown, sorted(files), warnings)
