//! Bindings for `hashpivot.fleet`: frames in as Arrow tables (PyCapsule stream), columns out
//! as `(name, Arrow array)` pairs that the Python wrapper assembles into a polars frame.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array};
use arrow_schema::DataType;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use super::convert::to_py;
use super::errors::dtype_error;
use crate::error::{CoreError, Position};
use crate::fleet::{self, curve, dispatch, economics, payback};

type Columns = Vec<(String, Py<PyAny>)>;

/// An Arrow table received from Python.
struct Frame {
    batches: Vec<arrow_array::RecordBatch>,
    schema: arrow_schema::SchemaRef,
}

impl Frame {
    fn new(t: PyTable) -> Self {
        let (batches, schema) = t.into_inner();
        Self { batches, schema }
    }
}

/// A Float64 column of a table, without nulls (the Python layer casts and fills first).
fn col(table: &Frame, name: &'static str) -> PyResult<Vec<f64>> {
    let idx = table
        .schema
        .index_of(name)
        .map_err(|_| CoreError::InvalidValue {
            what: name,
            at: Position::Scalar,
            why: "column is missing from the frame passed to the core".into(),
        })?;
    let mut out = Vec::new();
    for b in &table.batches {
        let a = b.column(idx);
        if a.data_type() != &DataType::Float64 {
            return Err(dtype_error(name, &a.data_type().to_string(), "Float64"));
        }
        if let Some(i) = (0..a.len()).find(|&i| a.is_null(i)) {
            return Err(CoreError::InvalidValue {
                what: name,
                at: Position::Row(out.len() + i),
                why: "is null; fill it or drop the row".into(),
            }
            .into());
        }
        out.extend_from_slice(a.as_primitive::<Float64Type>().values());
    }
    Ok(out)
}

fn has(table: &Frame, name: &str) -> bool {
    table.schema.index_of(name).is_ok()
}

fn f64s(py: Python<'_>, out: &mut Columns, name: &str, v: Vec<f64>) -> PyResult<()> {
    let arr: ArrayRef = Arc::new(Float64Array::from(v));
    out.push((name.to_owned(), to_py(py, arr)?));
    Ok(())
}

fn i64s(py: Python<'_>, out: &mut Columns, name: &str, v: Vec<Option<i64>>) -> PyResult<()> {
    let arr: ArrayRef = Arc::new(Int64Array::from(v));
    out.push((name.to_owned(), to_py(py, arr)?));
    Ok(())
}

/// Expected BTC per TH/s per day, gross of pool fee.
#[pyfunction]
fn btc_per_th_day(difficulty: f64, subsidy_btc: f64, fees_btc_per_block: f64) -> PyResult<f64> {
    Ok(fleet::btc_per_th_day(
        difficulty,
        subsidy_btc,
        fees_btc_per_block,
    )?)
}

/// Network hashrate implied by difficulty, TH/s.
#[pyfunction]
fn network_hashrate_ths(difficulty: f64) -> PyResult<f64> {
    Ok(fleet::network_hashrate_ths(difficulty)?)
}

struct Owned {
    h: Vec<f64>,
    w: Vec<f64>,
    n: Vec<f64>,
}

fn classes_of(t: &Frame) -> PyResult<Owned> {
    Ok(Owned {
        h: col(t, "hashrate_ths")?,
        w: col(t, "power_w")?,
        n: col(t, "count")?,
    })
}

struct OwnedSite {
    p: Vec<f64>,
    k: Vec<f64>,
    u: Vec<f64>,
    f: Vec<f64>,
    o: Vec<f64>,
    q: Vec<f64>,
}

fn site_of(t: &Frame) -> PyResult<OwnedSite> {
    Ok(OwnedSite {
        p: col(t, "power_price_usd_kwh")?,
        k: col(t, "pue")?,
        u: col(t, "uptime")?,
        f: col(t, "pool_fee")?,
        o: col(t, "opex_usd_month")?,
        q: col(t, "hosting_fee_usd_kwh")?,
    })
}

impl OwnedSite {
    fn view(&self) -> economics::Site<'_> {
        economics::Site {
            power_price_usd_kwh: &self.p,
            pue: &self.k,
            uptime: &self.u,
            pool_fee: &self.f,
            opex_usd_month: &self.o,
            hosting_fee_usd_kwh: &self.q,
        }
    }
}

impl Owned {
    fn view(&self) -> economics::Classes<'_> {
        economics::Classes {
            hashrate_ths: &self.h,
            power_w: &self.w,
            count: &self.n,
        }
    }
}

/// Per-class economics; flows per `hours`-long period.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (classes, *, btc_per_th_day, price_usd, network_hashrate_ths, depreciation, depreciation_years, salvage_fraction, declining_rate, interest_rate, hours))]
fn fleet_economics(
    py: Python<'_>,
    classes: PyTable,
    btc_per_th_day: f64,
    price_usd: f64,
    network_hashrate_ths: f64,
    depreciation: &str,
    depreciation_years: f64,
    salvage_fraction: f64,
    declining_rate: Option<f64>,
    interest_rate: f64,
    hours: f64,
) -> PyResult<Columns> {
    let classes = Frame::new(classes);
    let c = classes_of(&classes)?;
    let s = site_of(&classes)?;
    let price = col(&classes, "price_usd")?;
    let age = col(&classes, "age_days")?;
    let method = match depreciation {
        "straight_line" => economics::Depreciation::StraightLine,
        "declining" => economics::Depreciation::Declining {
            rate: declining_rate.unwrap_or((2.0 / depreciation_years).min(1.0)),
        },
        other => {
            return Err(CoreError::InvalidValue {
                what: "depreciation",
                at: Position::Scalar,
                why: format!("{other:?} is not a method; use \"straight_line\" or \"declining\""),
            }
            .into())
        }
    };
    let fin = economics::Finance {
        method,
        life_years: depreciation_years,
        salvage_fraction,
        interest_rate,
    };
    let m = economics::Market {
        btc_per_th_day,
        price_usd,
        network_hashrate_ths,
    };
    let e =
        py.detach(|| economics::economics(&c.view(), &s.view(), &m, &price, &age, &fin, hours))?;
    let mut out = Columns::new();
    for (name, v) in [
        ("hashrate_ths", e.hashrate_ths),
        ("hashrate_share", e.hashrate_share),
        ("btc", e.btc),
        ("revenue_usd", e.revenue_usd),
        ("energy_kwh", e.energy_kwh),
        ("power_cost_usd", e.power_cost_usd),
        ("opex_usd", e.opex_usd),
        ("depreciation_usd", e.depreciation_usd),
        ("interest_usd", e.interest_usd),
        ("margin_usd", e.margin_usd),
        ("all_in_margin_usd", e.all_in_margin_usd),
        (
            "breakeven_power_price_usd_kwh",
            e.breakeven_power_price_usd_kwh,
        ),
        ("shutdown_price_usd", e.shutdown_price_usd),
        ("cash_cost_usd_per_btc", e.cash_cost_usd_per_btc),
        ("all_in_cost_usd_per_btc", e.all_in_cost_usd_per_btc),
        ("book_value_usd", e.book_value_usd),
    ] {
        f64s(py, &mut out, name, v)?;
    }
    Ok(out)
}

/// Payback and ROI along a daily path.
#[pyfunction]
#[pyo3(signature = (classes, path, *, curtail))]
fn fleet_payback(
    py: Python<'_>,
    classes: PyTable,
    path: PyTable,
    curtail: bool,
) -> PyResult<Columns> {
    let (classes, path) = (Frame::new(classes), Frame::new(path));
    let c = classes_of(&classes)?;
    let s = site_of(&classes)?;
    let price = col(&classes, "price_usd")?;
    let b = col(&path, "btc_per_th_day")?;
    let px = col(&path, "btc_price_usd")?;
    let pp = if has(&path, "power_price_usd_kwh") {
        Some(col(&path, "power_price_usd_kwh")?)
    } else {
        None
    };
    let r = py.detach(|| {
        let dp = payback::DailyPath {
            btc_per_th_day: &b,
            btc_price_usd: &px,
            power_price_usd_kwh: pp.as_deref(),
        };
        payback::payback(&c.view(), &s.view(), &price, &dp, curtail)
    })?;
    let mut out = Columns::new();
    f64s(py, &mut out, "capex_usd", r.capex_usd)?;
    i64s(py, &mut out, "payback_days", r.payback_days)?;
    i64s(
        py,
        &mut out,
        "status_code",
        r.status.iter().map(|s| Some(i64::from(*s))).collect(),
    )?;
    f64s(py, &mut out, "cum_margin_usd", r.cum_margin_usd)?;
    f64s(py, &mut out, "roi", r.roi)?;
    f64s(py, &mut out, "btc", r.btc)?;
    f64s(py, &mut out, "last_day_margin_usd", r.last_day_margin_usd)?;
    i64s(
        py,
        &mut out,
        "days_running",
        r.days_running.into_iter().map(Some).collect(),
    )?;
    Ok(out)
}

/// Hourly dispatch of every class against an hourly series.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (classes, hourly, *, pue, uptime, pool_fee, hosting_fee_usd_kwh, start_cost_usd, min_run_hours, force_dp=false))]
fn fleet_dispatch(
    py: Python<'_>,
    classes: PyTable,
    hourly: PyTable,
    pue: f64,
    uptime: f64,
    pool_fee: f64,
    hosting_fee_usd_kwh: f64,
    start_cost_usd: f64,
    min_run_hours: usize,
    force_dp: bool,
) -> PyResult<Columns> {
    let (classes, hourly) = (Frame::new(classes), Frame::new(hourly));
    let c = classes_of(&classes)?;
    let p = col(&hourly, "power_price_usd_kwh")?;
    let dr = col(&hourly, "dr_credit_usd_kwh")?;
    let b = col(&hourly, "btc_per_th_hour")?;
    let px = col(&hourly, "btc_price_usd")?;
    let terms = dispatch::Terms {
        pue,
        uptime,
        pool_fee,
        hosting_fee_usd_kwh,
        start_cost_usd,
        min_run_hours,
    };
    let d = py.detach(|| {
        let h = dispatch::Hourly {
            power_price_usd_kwh: &p,
            dr_credit_usd_kwh: &dr,
            btc_per_th_hour: &b,
            btc_price_usd: &px,
        };
        if force_dp {
            dispatch::dispatch_dp(&c.view(), &h, &terms)
        } else {
            dispatch::dispatch(&c.view(), &h, &terms)
        }
    })?;
    let mut out = Columns::new();
    for (name, v) in [
        ("run_hours", d.run_hours),
        ("curtailed_hours", d.curtailed_hours),
        ("starts", d.starts),
    ] {
        i64s(py, &mut out, name, v.into_iter().map(Some).collect())?;
    }
    for (name, v) in [
        ("btc", d.btc),
        ("revenue_usd", d.revenue_usd),
        ("energy_kwh", d.energy_kwh),
        ("power_cost_usd", d.power_cost_usd),
        ("dr_credit_usd", d.dr_credit_usd),
        ("start_cost_usd", d.start_cost_usd),
        ("margin_usd", d.margin_usd),
        ("always_on_margin_usd", d.always_on_margin_usd),
    ] {
        f64s(py, &mut out, name, v)?;
    }
    Ok(out)
}

/// Network cost curve: (curve columns, summary dict).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (mix, *, btc_per_th_day, price_usd, power_price_usd_kwh, pue, pool_fee, depreciation_years))]
fn fleet_cost_curve<'py>(
    py: Python<'py>,
    mix: PyTable,
    btc_per_th_day: f64,
    price_usd: f64,
    power_price_usd_kwh: f64,
    pue: f64,
    pool_fee: f64,
    depreciation_years: f64,
) -> PyResult<(Columns, Bound<'py, PyDict>)> {
    let mix = Frame::new(mix);
    let e = col(&mix, "efficiency_jth")?;
    let h = col(&mix, "hashrate_ths")?;
    let capex = col(&mix, "capex_usd_th")?;
    let t = curve::CurveTerms {
        btc_per_th_day,
        price_usd,
        power_price_usd_kwh,
        pue,
        pool_fee,
        depreciation_years,
    };
    let (c, s) = py.detach(|| curve::cost_curve(&e, &h, &capex, &t))?;
    let mut out = Columns::new();
    i64s(py, &mut out, "row", c.row.into_iter().map(Some).collect())?;
    for (name, v) in [
        ("shutdown_price_usd", c.shutdown_price_usd),
        (
            "breakeven_power_price_usd_kwh",
            c.breakeven_power_price_usd_kwh,
        ),
        ("cash_cost_usd_per_btc", c.cash_cost_usd_per_btc),
        ("all_in_cost_usd_per_btc", c.all_in_cost_usd_per_btc),
        ("cum_hashrate_ths", c.cum_hashrate_ths),
        ("cum_hashrate_share", c.cum_hashrate_share),
    ] {
        f64s(py, &mut out, name, v)?;
    }
    let uw: ArrayRef = Arc::new(arrow_array::BooleanArray::from(c.under_water));
    out.push(("under_water".to_owned(), to_py(py, uw)?));
    let d = PyDict::new(py);
    for (k, v) in [
        ("hashrate_ths", s.hashrate_ths),
        ("share_under_water", s.share_under_water),
        ("avg_cash_cost_usd_per_btc", s.avg_cash_cost_usd_per_btc),
        ("avg_all_in_cost_usd_per_btc", s.avg_all_in_cost_usd_per_btc),
        ("lower_efficiency_jth", s.lower_efficiency_jth),
        ("upper_efficiency_jth", s.upper_efficiency_jth),
        ("best_guess_efficiency_jth", s.best_guess_efficiency_jth),
        ("lower_power_gw", s.lower_power_gw),
        ("upper_power_gw", s.upper_power_gw),
        ("best_guess_power_gw", s.best_guess_power_gw),
        ("lower_cash_cost_usd_per_btc", s.lower_cash_cost_usd_per_btc),
        ("upper_cash_cost_usd_per_btc", s.upper_cash_cost_usd_per_btc),
        (
            "best_guess_cash_cost_usd_per_btc",
            s.best_guess_cash_cost_usd_per_btc,
        ),
    ] {
        d.set_item(k, v)?;
    }
    Ok((out, d))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(btc_per_th_day, m)?)?;
    m.add_function(wrap_pyfunction!(network_hashrate_ths, m)?)?;
    m.add_function(wrap_pyfunction!(fleet_economics, m)?)?;
    m.add_function(wrap_pyfunction!(fleet_payback, m)?)?;
    m.add_function(wrap_pyfunction!(fleet_dispatch, m)?)?;
    m.add_function(wrap_pyfunction!(fleet_cost_curve, m)?)?;
    Ok(())
}
