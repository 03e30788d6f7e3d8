//! Bindings for `hashpivot.scenario`: the Python wrapper flattens the typed `Scenario`
//! into a dict of plain values (see `scenario.py::_to_core`); this module turns it into a
//! [`SimConfig`], runs the engine with the GIL released and returns two Arrow tables.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
    TimestampSecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::AnyArray;
use pyo3_arrow::PyTable;

use super::consensus::PyNetworkParams;
use super::convert::{chunks, scalars};
use super::errors::dtype_error;
use crate::chain::buf::NumCol;
use crate::sim::{
    simulate, simulate_daily, ArrivalMode, ChainStart, FeeModel, FleetClass, FleetModel,
    GivenSeries, GpuModel, PowerModel, PriceModel, Shock, SimConfig, SimOutput,
};

fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, key: &'static str) -> PyResult<T> {
    let v = d
        .get_item(key)?
        .ok_or_else(|| dtype_error(key, "missing", "a value (internal: scenario dict)"))?;
    v.extract::<T>().map_err(|_| {
        dtype_error(
            key,
            &v.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            std::any::type_name::<T>(),
        )
    })
}

use pyo3::conversion::FromPyObjectOwned;

/// A given driver series: `None`, or `(values, rows, per_path)` with `values` a Float64 Arrow array or
/// polars Series without nulls (read without a Python list; the wrapper has checked it).
fn given(d: &Bound<'_, PyDict>, key: &'static str) -> PyResult<Option<GivenSeries>> {
    let v = d
        .get_item(key)?
        .ok_or_else(|| dtype_error(key, "missing", "a value (internal: scenario dict)"))?;
    if v.is_none() {
        return Ok(None);
    }
    let (arr, rows, per_path): (AnyArray, usize, bool) = v.extract().map_err(|_| {
        dtype_error(
            key,
            "not (array, rows, per_path)",
            "(Float64 array, rows, per_path)",
        )
    })?;
    let mut values = Vec::new();
    for c in chunks(key, arr)? {
        let a = c
            .as_any()
            .downcast_ref::<Float64Array>()
            .filter(|a| a.null_count() == 0)
            .ok_or_else(|| dtype_error(key, &c.data_type().to_string(), "Float64 without nulls"))?;
        values.extend_from_slice(a.values());
    }
    Ok(Some(GivenSeries {
        values,
        rows,
        per_path,
    }))
}

fn config(d: &Bound<'_, PyDict>, params: &PyNetworkParams) -> PyResult<SimConfig> {
    let price_kind: String = get(d, "price_kind")?;
    let price = match price_kind.as_str() {
        "gbm" => PriceModel::Gbm {
            start_usd: get(d, "price_start_usd")?,
            mu: get(d, "price_mu")?,
            sigma: get(d, "price_sigma")?,
            jump_per_year: get(d, "price_jump_per_year")?,
            jump_mean: get(d, "price_jump_mean")?,
            jump_sd: get(d, "price_jump_sd")?,
        },
        "bootstrap" => PriceModel::Bootstrap {
            start_usd: get(d, "price_start_usd")?,
            log_returns: get(d, "price_log_returns")?,
            block_days: get(d, "price_block_days")?,
        },
        "given" => PriceModel::Given {
            values: given(d, "price_values")?.ok_or_else(|| {
                dtype_error("price_values", "None", "(Float64 array, rows, per_path)")
            })?,
        },
        other => {
            return Err(dtype_error(
                "price kind",
                other,
                "'gbm', 'bootstrap' or 'given'",
            ))
        }
    };
    let arrivals = match get::<String>(d, "arrivals")?.as_str() {
        "poisson" => ArrivalMode::Poisson,
        "deterministic" => ArrivalMode::Deterministic,
        other => {
            return Err(dtype_error(
                "arrivals",
                other,
                "'poisson' or 'deterministic'",
            ))
        }
    };
    let eff: Vec<f64> = get(d, "mix_efficiency_jth")?;
    let ths: Vec<f64> = get(d, "mix_hashrate_ths")?;
    let ret: Vec<f64> = get(d, "mix_retire_per_year")?;
    let classes = eff
        .iter()
        .zip(&ths)
        .zip(&ret)
        .map(|((&e, &h), &r)| FleetClass {
            efficiency_jth: e,
            hashrate_ths: h,
            retire_per_year: r,
        })
        .collect();
    let corr: Vec<Vec<f64>> = get(d, "correlation")?;
    let mut correlation = [[0.0; 4]; 4];
    if corr.len() != 4 || corr.iter().any(|r| r.len() != 4) {
        return Err(dtype_error(
            "correlation",
            "a non-4×4 matrix",
            "a 4×4 matrix over (price, fees, power, gpu)",
        ));
    }
    for (i, r) in corr.iter().enumerate() {
        correlation[i].copy_from_slice(r);
    }
    let shocks: Vec<(usize, usize, f64)> = get(d, "shocks")?;
    Ok(SimConfig {
        network: params.inner.clone(),
        start: ChainStart {
            height: get(d, "start_height")?,
            bits: get(d, "start_bits")?,
            time: get(d, "start_time")?,
            epoch_first_time: get(d, "start_epoch_first_time")?,
        },
        n_days: get(d, "n_days")?,
        arrivals,
        price,
        fees: FeeModel {
            start_btc: get(d, "fees_start_btc")?,
            mean_btc: get(d, "fees_mean_btc")?,
            reversion_per_day: get(d, "fees_reversion_per_day")?,
            vol_per_day: get(d, "fees_vol_per_day")?,
            given: given(d, "fees_given")?,
        },
        power: PowerModel {
            base_usd_kwh: get(d, "power_base_usd_kwh")?,
            season_amp: get(d, "power_season_amp")?,
            season_peak_doy: get(d, "power_season_peak_doy")?,
            reversion_per_day: get(d, "power_reversion_per_day")?,
            vol_usd_kwh_per_day: get(d, "power_vol_usd_kwh_per_day")?,
            spike_prob_per_day: get(d, "power_spike_prob_per_day")?,
            spike_mult: get(d, "power_spike_mult")?,
            given: given(d, "power_given")?,
        },
        gpu: GpuModel {
            start_usd_hr: get(d, "gpu_start_usd_hr")?,
            generation_days: get(d, "gpu_generation_days")?,
            generation_step: get(d, "gpu_generation_step")?,
            decay_per_year: get(d, "gpu_decay_per_year")?,
            reversion_per_day: get(d, "gpu_reversion_per_day")?,
            vol_per_day: get(d, "gpu_vol_per_day")?,
            given: given(d, "gpu_given")?,
        },
        correlation,
        fleet: FleetModel {
            classes,
            tranche_mult: get(d, "tranche_mult")?,
            tranche_weight: get(d, "tranche_weight")?,
            pue: get(d, "pue")?,
            pool_fee: get(d, "pool_fee")?,
            hysteresis: get(d, "hysteresis")?,
            response_per_day: get(d, "response_per_day")?,
            arrival_efficiency_jth: get(d, "arrival_efficiency_jth")?,
            arrival_threshold: get(d, "arrival_threshold")?,
            deploy_cap_per_day: get(d, "deploy_cap_per_day")?,
            lead_time_days: get(d, "lead_time_days")?,
            retire_arrivals_per_year: get(d, "retire_arrivals_per_year")?,
        },
        hashrate_given_ehs: get(d, "hashrate_given_ehs")?,
        shocks: shocks
            .into_iter()
            .map(|(start_day, days, fraction)| Shock {
                start_day,
                days,
                fraction,
            })
            .collect(),
    })
}

fn table(py: Python<'_>, cols: Vec<(&str, DataType, ArrayRef)>) -> PyResult<Py<PyAny>> {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, t, _)| Field::new(*n, t.clone(), false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols.into_iter().map(|c| c.2).collect())
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(Bound::new(py, PyTable::try_new(vec![batch], schema)?)?
        .into_any()
        .unbind())
}

fn tables(py: Python<'_>, o: SimOutput) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let utc: Arc<str> = Arc::from("UTC");
    let ts_us = DataType::Timestamp(TimeUnit::Microsecond, Some(utc.clone()));
    let ts_s = DataType::Timestamp(TimeUnit::Second, Some(utc.clone()));
    let f = |v: NumCol<f64>| -> ArrayRef { Arc::new(Float64Array::new(scalars(v), None)) };
    let daily = table(
        py,
        vec![
            (
                "path",
                DataType::UInt32,
                Arc::new(UInt32Array::new(scalars(o.path), None)),
            ),
            (
                "date",
                ts_us.clone(),
                Arc::new(
                    TimestampMicrosecondArray::new(scalars(o.date_us), None)
                        .with_timezone(utc.clone()),
                ),
            ),
            (
                "height",
                DataType::Int64,
                Arc::new(Int64Array::new(scalars(o.height), None)),
            ),
            (
                "bits",
                DataType::UInt32,
                Arc::new(UInt32Array::new(scalars(o.bits), None)),
            ),
            ("difficulty", DataType::Float64, f(o.difficulty)),
            ("hashrate_ehs", DataType::Float64, f(o.hashrate_ehs)),
            ("price_usd", DataType::Float64, f(o.price_usd)),
            (
                "fees_btc_per_block",
                DataType::Float64,
                f(o.fees_btc_per_block),
            ),
            ("subsidy_btc", DataType::Float64, f(o.subsidy_btc)),
            (
                "hashprice_usd_ph_day",
                DataType::Float64,
                f(o.hashprice_usd_ph_day),
            ),
            (
                "power_price_usd_kwh",
                DataType::Float64,
                f(o.power_price_usd_kwh),
            ),
            ("gpu_rent_usd_hr", DataType::Float64, f(o.gpu_rent_usd_hr)),
            (
                "share_under_water",
                DataType::Float64,
                f(o.share_under_water),
            ),
        ],
    )?;
    let rt = table(
        py,
        vec![
            (
                "path",
                DataType::UInt32,
                Arc::new(UInt32Array::from(o.rt_path)),
            ),
            (
                "height",
                DataType::Int64,
                Arc::new(Int64Array::from(o.rt_height)),
            ),
            (
                "time",
                ts_s.clone(),
                Arc::new(TimestampSecondArray::from(o.rt_time).with_timezone(utc.clone())),
            ),
            (
                "first_time",
                ts_s,
                Arc::new(TimestampSecondArray::from(o.rt_first_time).with_timezone(utc)),
            ),
            (
                "old_bits",
                DataType::UInt32,
                Arc::new(UInt32Array::from(o.rt_old_bits)),
            ),
            (
                "bits",
                DataType::UInt32,
                Arc::new(UInt32Array::from(o.rt_new_bits)),
            ),
        ],
    )?;
    Ok((daily, rt))
}

/// Run the scenario engine for paths `first_path … first_path + n_paths − 1`; returns the
/// daily table and the retarget table (Arrow, stream-only).
/// The Float64 chunks of a column without nulls.
fn f64_chunks(arg: &str, a: pyo3_arrow::input::AnyArray) -> PyResult<Vec<Float64Array>> {
    let chunks = super::convert::chunks(arg, a)?;
    chunks
        .iter()
        .map(|c| {
            let Some(a) = c.as_any().downcast_ref::<Float64Array>() else {
                return Err(dtype_error(
                    arg,
                    &c.data_type().to_string(),
                    "a Float64 column",
                ));
            };
            if a.null_count() > 0 {
                return Err(dtype_error(arg, "a column with nulls", "no nulls"));
            }
            Ok(a.clone())
        })
        .collect()
}

/// Running sums of a revenue model's daily flows per path (see `sim::summary::flow_table`
/// and `flow_at`): the columns are kept (shared Arrow buffers, no copy) with a table of every
/// path's sums at the day boundaries, so the sums before any day cost a short walk.
#[pyclass(name = "FlowSums", module = "hashpivot._core", frozen)]
pub struct PyFlowSums {
    rev: Vec<Float64Array>,
    opex: Vec<Float64Array>,
    capex: Option<Vec<Float64Array>>,
    disc_day: Vec<f64>,
    n_paths: usize,
    n_days: usize,
    bounds: Vec<usize>,
    table: Vec<[f64; 4]>,
}

fn chunked(v: &[Float64Array]) -> crate::sim::summary::Chunked<'_> {
    crate::sim::summary::Chunked::new(v.iter().map(|a| &a.values()[..]).collect())
}

impl PyFlowSums {
    fn flows(&self) -> crate::sim::summary::Flows<'_> {
        crate::sim::summary::Flows {
            rev: chunked(&self.rev),
            opex: chunked(&self.opex),
            capex: self.capex.as_deref().map(chunked),
            disc_day: &self.disc_day,
            n_paths: self.n_paths,
            n_days: self.n_days,
            bounds: &self.bounds,
        }
    }

    /// `[n, r, o]` or `[n, r, o, c]` columns of `rows` as Float64 arrays.
    fn columns(&self, py: Python<'_>, rows: &[[f64; 4]]) -> PyResult<Vec<Py<PyAny>>> {
        let k = if self.capex.is_some() { 4 } else { 3 };
        (0..k)
            .map(|j| {
                let col = Float64Array::from_iter_values(rows.iter().map(|r| r[j]));
                super::convert::to_py(py, Arc::new(col) as ArrayRef)
            })
            .collect()
    }
}

#[pymethods]
impl PyFlowSums {
    /// `rev`, `opex`, optional `capex`: Float64 columns of `n_paths × n_days` path-major rows
    /// without nulls; `disc_day`: the discount factor of each day; `bounds`: day indices
    /// rising strictly from 0 to `n_days`.
    #[new]
    #[pyo3(signature = (rev, opex, capex, disc_day, n_paths, n_days, bounds))]
    #[allow(clippy::too_many_arguments)] // the Python constructor's arguments
    fn new(
        py: Python<'_>,
        rev: pyo3_arrow::input::AnyArray,
        opex: pyo3_arrow::input::AnyArray,
        capex: Option<pyo3_arrow::input::AnyArray>,
        disc_day: pyo3_arrow::input::AnyArray,
        n_paths: usize,
        n_days: usize,
        bounds: Vec<usize>,
    ) -> PyResult<Self> {
        let mut s = Self {
            rev: f64_chunks("rev", rev)?,
            opex: f64_chunks("opex", opex)?,
            capex: capex.map(|c| f64_chunks("capex", c)).transpose()?,
            disc_day: f64_chunks("disc_day", disc_day)?
                .iter()
                .flat_map(|a| a.values().iter().copied())
                .collect(),
            n_paths,
            n_days,
            bounds,
            table: Vec::new(),
        };
        let table = py.detach(|| crate::sim::summary::flow_table(&s.flows()))?;
        s.table = table;
        Ok(s)
    }

    /// The running sums before every boundary, boundary-major: row `j · n_paths + p` sums
    /// days `[0, bounds[j])` of path `p`.
    fn table(&self, py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
        // transpose the path-major table in blocks of paths (each block's rows stay in cache)
        let (nb, np) = (self.bounds.len(), self.n_paths);
        let k = if self.capex.is_some() { 4 } else { 3 };
        let mut cols = vec![vec![0.0; nb * np]; k];
        for p0 in (0..np).step_by(64) {
            let p1 = (p0 + 64).min(np);
            for j in 0..nb {
                for p in p0..p1 {
                    let row = self.table[p * nb + j];
                    for (c, col) in cols.iter_mut().enumerate() {
                        col[j * np + p] = row[c];
                    }
                }
            }
        }
        cols.into_iter()
            .map(|c| super::convert::to_py(py, Arc::new(Float64Array::from(c)) as ArrayRef))
            .collect()
    }

    /// The running sums before day `days[i]` (0 ..= n_days) of path `i mod n_paths`, for
    /// `days` of a multiple of `n_paths` values (Int64, no nulls).
    fn at(&self, py: Python<'_>, days: pyo3_arrow::input::AnyArray) -> PyResult<Vec<Py<PyAny>>> {
        let chunks = super::convert::chunks("days", days)?;
        let mut d: Vec<i64> = Vec::new();
        for c in &chunks {
            let Some(a) = c.as_any().downcast_ref::<Int64Array>() else {
                return Err(dtype_error(
                    "days",
                    &c.data_type().to_string(),
                    "an Int64 column",
                ));
            };
            if a.null_count() > 0 {
                return Err(dtype_error("days", "a column with nulls", "no nulls"));
            }
            d.extend_from_slice(a.values());
        }
        let rows = py.detach(|| crate::sim::summary::flow_at(&self.flows(), &self.table, &d))?;
        self.columns(py, &rows)
    }
}

/// Annual IRR by bisection per row of monthly flows (see `sim::summary::irr_bisect`):
/// `periods[k]` holds period k of every row (Float64, no nulls); a Float64 array with nulls.
#[pyfunction]
#[pyo3(signature = (periods, iterations))]
fn irr_bisect(
    py: Python<'_>,
    periods: Vec<pyo3_arrow::input::AnyArray>,
    iterations: usize,
) -> PyResult<Py<PyAny>> {
    let cols: Vec<Vec<f64>> = periods
        .into_iter()
        .map(|a| {
            Ok(f64_chunks("periods", a)?
                .iter()
                .flat_map(|c| c.values().iter().copied())
                .collect())
        })
        .collect::<PyResult<_>>()?;
    let views: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    let out = py.detach(|| crate::sim::summary::irr_bisect(&views, iterations))?;
    super::convert::to_py(py, Arc::new(Float64Array::from(out)) as ArrayRef)
}

/// Per path, the first day whose trailing-window mean of a path-major Float64 column (no
/// nulls) is below (or above) a threshold; an Int64 array with nulls for "never".
#[pyfunction]
#[pyo3(signature = (values, n_paths, n_days, window, threshold, below))]
fn first_crossing(
    py: Python<'_>,
    values: pyo3_arrow::input::AnyArray,
    n_paths: usize,
    n_days: usize,
    window: usize,
    threshold: f64,
    below: bool,
) -> PyResult<Py<PyAny>> {
    let arrays = f64_chunks("values", values)?;
    let [a] = arrays.as_slice() else {
        return Err(dtype_error(
            "values",
            "a multi-chunk column",
            "one chunk (rechunk)",
        ));
    };
    let out = py.detach(|| {
        crate::sim::summary::first_crossing(a.values(), n_paths, n_days, window, threshold, below)
    })?;
    super::convert::to_py(py, super::convert::i64_array(out))
}

/// `hashpivot.revenue.with_service_age`'s column (see [`crate::sim::summary::service_age`]).
#[pyfunction]
#[pyo3(signature = (starts, n_days))]
fn service_age(py: Python<'_>, starts: Vec<i64>, n_days: usize) -> PyResult<Py<PyAny>> {
    let out = py.detach(|| crate::sim::summary::service_age(&starts, n_days))?;
    let arr = arrow_array::Int32Array::new(scalars(out), None);
    super::convert::to_py(py, Arc::new(arr) as ArrayRef)
}

/// Arrow arrays handed to Python.
type Arrays = Vec<Py<PyAny>>;

/// `hashpivot.revenue.service_tranches`'s split (see
/// [`crate::sim::summary::service_tranches`]): `(starts, held)`, one Int64 array of every
/// path's start day per tranche and one Float64 array of MW on every row per index in
/// `held_of`.
#[pyfunction]
#[pyo3(signature = (mw, n_days, k_max, lead, held_of))]
fn service_tranches(
    py: Python<'_>,
    mw: AnyArray,
    n_days: usize,
    k_max: usize,
    lead: usize,
    held_of: Vec<usize>,
) -> PyResult<(Arrays, Arrays)> {
    let arrays = f64_chunks("mw", mw)?;
    let split = |v: &[f64]| crate::sim::summary::service_tranches(v, n_days, k_max, lead, &held_of);
    let crate::sim::summary::Tranches { held, starts, .. } =
        py.detach(|| match arrays.as_slice() {
            [a] => split(a.values()),
            _ => {
                let flat: Vec<f64> = arrays
                    .iter()
                    .flat_map(|a| a.values().iter().copied())
                    .collect();
                split(&flat)
            }
        })?;
    let starts = starts
        .into_iter()
        .map(|s| super::convert::to_py(py, Arc::new(Int64Array::from(s)) as ArrayRef))
        .collect::<PyResult<_>>()?;
    let held = held
        .into_iter()
        .map(|h| super::convert::to_py(py, Arc::new(Float64Array::from(h)) as ArrayRef))
        .collect::<PyResult<_>>()?;
    Ok((starts, held))
}

/// Per-day mean and quantiles over paths of a path-major Float64 column (no nulls);
/// returns a Float64 array of `n_days × (1 + len(qs))` values, day-major.
#[pyfunction]
#[pyo3(signature = (values, n_paths, n_days, qs))]
fn day_quantiles(
    py: Python<'_>,
    values: pyo3_arrow::input::AnyArray,
    n_paths: usize,
    n_days: usize,
    qs: Vec<f64>,
) -> PyResult<Py<PyAny>> {
    let arrays = f64_chunks("values", values)?;
    let out = py.detach(|| match arrays.as_slice() {
        // one chunk (the usual case): read Arrow's buffer in place, no copy
        [a] => crate::sim::summary::day_quantiles(a.values(), n_paths, n_days, &qs),
        _ => {
            let flat: Vec<f64> = arrays
                .iter()
                .flat_map(|a| a.values().iter().copied())
                .collect();
            crate::sim::summary::day_quantiles(&flat, n_paths, n_days, &qs)
        }
    })?;
    super::convert::to_py(py, Arc::new(Float64Array::from(out)) as ArrayRef)
}

#[pyfunction]
#[pyo3(signature = (config, params, seed, first_path, n_paths, retargets = true))]
fn simulate_paths(
    py: Python<'_>,
    config: &Bound<'_, PyDict>,
    params: &PyNetworkParams,
    seed: u64,
    first_path: u32,
    n_paths: u32,
    retargets: bool,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let cfg = self::config(config, params)?;
    let out = py.detach(|| {
        if retargets {
            simulate(&cfg, seed, first_path, n_paths)
        } else {
            simulate_daily(&cfg, seed, first_path, n_paths)
        }
    })?;
    tables(py, out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(simulate_paths, m)?)?;
    m.add_function(wrap_pyfunction!(day_quantiles, m)?)?;
    m.add_function(wrap_pyfunction!(service_age, m)?)?;
    m.add_function(wrap_pyfunction!(service_tranches, m)?)?;
    m.add_function(wrap_pyfunction!(first_crossing, m)?)?;
    m.add_class::<PyFlowSums>()?;
    m.add_function(wrap_pyfunction!(irr_bisect, m)?)?;
    Ok(())
}
