//! Bindings for `hashpivot.consensus`: scalars take Python ints, columns take Arrow arrays.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt};
use pyo3_arrow::input::AnyArray;

use arrow_array::types::Float64Type;

use super::convert::{
    bits_column, bits_prim, bool_array, chunks, f64_array, i64_array, i64_column, i64_prim,
    map_col, prim_array, str_array, string_views, to_py, u256_column, u32_array, Column,
};
use crate::consensus::params::{NetworkParams, OverflowMode};
use crate::consensus::retarget::{self, SliceChain};
use crate::consensus::target::{self, U256};
use crate::consensus::{columns, subsidy, time};
use crate::error::{CoreError, CoreResult, Position};

/// Network proof-of-work and subsidy parameters (Core's `Consensus::Params`).
#[pyclass(name = "NetworkParams", module = "hashpivot._core", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyNetworkParams {
    pub inner: NetworkParams,
}

pub fn u256_to_py<'py>(py: Python<'py>, v: &U256) -> PyResult<Bound<'py, PyAny>> {
    let b = PyBytes::new(py, &v.to_be_bytes::<32>());
    py.get_type::<PyInt>()
        .call_method1("from_bytes", (b, "big"))
}

pub fn py_to_u256(arg: &'static str, v: &Bound<'_, PyAny>) -> PyResult<U256> {
    let v = v.cast::<PyInt>().map_err(|_| {
        super::errors::dtype_error(
            arg,
            &v.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            "a Python int",
        )
    })?;
    let negative: bool = v.lt(0)?;
    if negative {
        return Err(CoreError::InvalidValue {
            what: arg,
            at: Position::Scalar,
            why: format!("{v} is negative; 256-bit targets are unsigned"),
        }
        .into());
    }
    match v.call_method1("to_bytes", (32, "big")) {
        Ok(b) => {
            let b: Vec<u8> = b.extract()?;
            let mut a = [0u8; 32];
            a.copy_from_slice(&b);
            Ok(U256::from_be_bytes(a))
        }
        Err(e) if e.is_instance_of::<PyOverflowError>(v.py()) => Err(CoreError::Overflow {
            what: arg,
            at: Position::Scalar,
            why: format!("{v} does not fit in 256 bits"),
        }
        .into()),
        Err(e) => Err(e),
    }
}

#[pymethods]
impl PyNetworkParams {
    #[staticmethod]
    fn mainnet() -> Self {
        Self {
            inner: NetworkParams::mainnet(),
        }
    }
    #[staticmethod]
    fn testnet3() -> Self {
        Self {
            inner: NetworkParams::testnet3(),
        }
    }
    #[staticmethod]
    fn testnet4() -> Self {
        Self {
            inner: NetworkParams::testnet4(),
        }
    }
    #[staticmethod]
    fn signet() -> Self {
        Self {
            inner: NetworkParams::signet(),
        }
    }
    #[staticmethod]
    fn regtest() -> Self {
        Self {
            inner: NetworkParams::regtest(),
        }
    }
    /// A built-in network by name.
    #[staticmethod]
    fn by_name(name: &str) -> PyResult<Self> {
        Ok(Self {
            inner: NetworkParams::by_name(name)?,
        })
    }

    /// Custom parameters for what-if runs: start from `base` and override fields.
    /// `overflow` defaults to "checked" (refuse a retarget product over 256 bits).
    #[staticmethod]
    #[pyo3(signature = (base="mainnet", *, name=None, pow_limit=None, pow_target_timespan=None,
        pow_target_spacing=None, allow_min_difficulty_blocks=None, no_retargeting=None,
        enforce_bip94=None, subsidy_halving_interval=None, genesis_time=None, genesis_bits=None,
        overflow="checked"))]
    #[allow(clippy::too_many_arguments)]
    fn custom(
        base: &str,
        name: Option<String>,
        pow_limit: Option<&Bound<'_, PyAny>>,
        pow_target_timespan: Option<i64>,
        pow_target_spacing: Option<i64>,
        allow_min_difficulty_blocks: Option<bool>,
        no_retargeting: Option<bool>,
        enforce_bip94: Option<bool>,
        subsidy_halving_interval: Option<i64>,
        genesis_time: Option<i64>,
        genesis_bits: Option<u32>,
        overflow: &str,
    ) -> PyResult<Self> {
        let mut p = NetworkParams::by_name(base)?;
        p.name = name.unwrap_or_else(|| format!("custom({base})"));
        if let Some(v) = pow_limit {
            p.pow_limit = py_to_u256("pow_limit", v)?;
        }
        if let Some(v) = pow_target_timespan {
            p.pow_target_timespan = v;
        }
        if let Some(v) = pow_target_spacing {
            p.pow_target_spacing = v;
        }
        if let Some(v) = allow_min_difficulty_blocks {
            p.allow_min_difficulty_blocks = v;
        }
        if let Some(v) = no_retargeting {
            p.no_retargeting = v;
        }
        if let Some(v) = enforce_bip94 {
            p.enforce_bip94 = v;
        }
        if let Some(v) = subsidy_halving_interval {
            p.subsidy_halving_interval = v;
        }
        if let Some(v) = genesis_time {
            p.genesis_time = v;
        }
        p.genesis_bits = genesis_bits.unwrap_or_else(|| p.pow_limit_bits());
        p.genesis_hash = String::new();
        p.overflow = OverflowMode::parse(overflow)?;
        p.validate()?;
        Ok(Self { inner: p })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    #[getter]
    fn pow_limit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        u256_to_py(py, &self.inner.pow_limit)
    }
    #[getter]
    fn pow_limit_bits(&self) -> u32 {
        self.inner.pow_limit_bits()
    }
    #[getter]
    fn pow_target_timespan(&self) -> i64 {
        self.inner.pow_target_timespan
    }
    #[getter]
    fn pow_target_spacing(&self) -> i64 {
        self.inner.pow_target_spacing
    }
    #[getter]
    fn interval(&self) -> i64 {
        self.inner.interval()
    }
    #[getter]
    fn allow_min_difficulty_blocks(&self) -> bool {
        self.inner.allow_min_difficulty_blocks
    }
    #[getter]
    fn no_retargeting(&self) -> bool {
        self.inner.no_retargeting
    }
    #[getter]
    fn enforce_bip94(&self) -> bool {
        self.inner.enforce_bip94
    }
    #[getter]
    fn subsidy_halving_interval(&self) -> i64 {
        self.inner.subsidy_halving_interval
    }
    #[getter]
    fn genesis_time(&self) -> i64 {
        self.inner.genesis_time
    }
    #[getter]
    fn genesis_bits(&self) -> u32 {
        self.inner.genesis_bits
    }
    #[getter]
    fn genesis_hash(&self) -> &str {
        &self.inner.genesis_hash
    }
    #[getter]
    fn overflow(&self) -> &'static str {
        self.inner.overflow.name()
    }
    /// Whether `powLimit · 4 · timespan` fits in 256 bits (Core's chain-params sanity check).
    #[getter]
    fn retarget_cannot_overflow(&self) -> bool {
        self.inner.retarget_cannot_overflow()
    }
    fn __repr__(&self) -> String {
        format!(
            "NetworkParams(name={:?}, pow_limit_bits=0x{:08x}, interval={}, spacing={}s, min_difficulty_blocks={}, no_retargeting={}, bip94={}, halving_interval={}, overflow={:?})",
            self.inner.name,
            self.inner.pow_limit_bits(),
            self.inner.interval(),
            self.inner.pow_target_spacing,
            self.inner.allow_min_difficulty_blocks,
            self.inner.no_retargeting,
            self.inner.enforce_bip94,
            self.inner.subsidy_halving_interval,
            self.inner.overflow.name()
        )
    }
}

fn cr<T>(py: Python<'_>, f: impl FnOnce() -> CoreResult<T> + Send) -> PyResult<T>
where
    T: Send,
{
    py.detach(f).map_err(PyErr::from)
}

// ---------------------------------------------------------------- scalars

/// Core's SetCompact: (value, negative, overflow).
#[pyfunction]
fn decode_compact(py: Python<'_>, bits: u32) -> PyResult<(Bound<'_, PyAny>, bool, bool)> {
    let d = target::decode(bits);
    Ok((u256_to_py(py, &d.value)?, d.negative, d.overflow))
}

/// The target of valid bits (sign/overflow/zero rejected; powLimit checked if given).
#[pyfunction]
#[pyo3(signature = (bits, params=None))]
fn bits_to_target<'py>(
    py: Python<'py>,
    bits: u32,
    params: Option<&PyNetworkParams>,
) -> PyResult<Bound<'py, PyAny>> {
    let t = match params {
        Some(p) => target::derive_target(bits, &p.inner.pow_limit)?,
        None => target::target_of_bits(bits)?,
    };
    u256_to_py(py, &t)
}

#[pyfunction]
#[pyo3(signature = (target, negative=false))]
fn target_to_bits(target: &Bound<'_, PyAny>, negative: bool) -> PyResult<u32> {
    Ok(target::encode(py_to_u256("target", target)?, negative))
}

#[pyfunction]
fn bits_to_difficulty(bits: u32) -> PyResult<f64> {
    Ok(target::bits_to_difficulty(bits)?)
}

#[pyfunction]
fn target_to_difficulty(target: &Bound<'_, PyAny>) -> PyResult<f64> {
    Ok(target::target_to_difficulty(&py_to_u256(
        "target", target,
    )?)?)
}

/// Work of a block with these bits. strict=False returns 0 for invalid bits, as Core does.
#[pyfunction]
#[pyo3(signature = (bits, strict=true))]
fn work(py: Python<'_>, bits: u32, strict: bool) -> PyResult<Bound<'_, PyAny>> {
    if strict {
        target::target_of_bits(bits)?;
    }
    u256_to_py(py, &target::bits_proof(bits))
}

#[pyfunction]
fn target_work<'py>(py: Python<'py>, target: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let t = py_to_u256("target", target)?;
    if t.is_zero() {
        return Err(CoreError::InvalidTarget {
            what: "target",
            at: Position::Scalar,
            why: "is zero; work is undefined".into(),
        }
        .into());
    }
    u256_to_py(py, &target::target_proof(&t))
}

#[pyfunction]
fn check_proof_of_work(hash_le: [u8; 32], bits: u32, params: &PyNetworkParams) -> bool {
    target::check_proof_of_work(&hash_le, bits, &params.inner.pow_limit)
}

#[pyfunction]
fn is_canonical_bits(bits: u32) -> bool {
    target::is_canonical(bits)
}

#[pyfunction]
fn calculate_next_bits(
    py: Python<'_>,
    last_bits: u32,
    last_time: i64,
    first_bits: u32,
    first_time: i64,
    params: &PyNetworkParams,
) -> PyResult<u32> {
    let p = &params.inner;
    cr(py, || {
        retarget::calculate_next_work_required(last_bits, last_time, first_bits, first_time, p)
    })
}

/// Required bits of the block after the last of a consecutive run of headers.
#[pyfunction]
#[pyo3(signature = (start_height, times, bits, params, new_time=None))]
fn next_bits(
    py: Python<'_>,
    start_height: i64,
    times: Vec<i64>,
    bits: Vec<u32>,
    params: &PyNetworkParams,
    new_time: Option<i64>,
) -> PyResult<u32> {
    if times.len() != bits.len() || times.is_empty() {
        return Err(CoreError::InvalidValue {
            what: "chain",
            at: Position::Scalar,
            why: format!(
                "times ({}) and bits ({}) must have the same, non-zero length",
                times.len(),
                bits.len()
            ),
        }
        .into());
    }
    let p = &params.inner;
    let last = start_height + times.len() as i64 - 1;
    cr(py, || {
        let view = SliceChain {
            start_height,
            times: &times,
            bits: &bits,
        };
        retarget::next_work_required(&view, last, new_time, p)
    })
}

#[pyfunction]
fn permitted_difficulty_transition(
    params: &PyNetworkParams,
    height: i64,
    old_bits: u32,
    new_bits: u32,
) -> bool {
    retarget::permitted_difficulty_transition(&params.inner, height, old_bits, new_bits)
}

#[pyfunction]
fn block_subsidy(height: i64, interval: i64) -> PyResult<i64> {
    Ok(subsidy::block_subsidy(height, interval)?)
}

#[pyfunction]
fn halving_heights(interval: i64) -> PyResult<Vec<i64>> {
    Ok(subsidy::halving_heights(interval)?)
}

#[pyfunction]
fn total_issuance(interval: i64) -> PyResult<i64> {
    Ok(subsidy::total_issuance(interval)?)
}

#[pyfunction]
fn issuance_through(height: i64, interval: i64) -> PyResult<i64> {
    Ok(subsidy::issuance_through(height, interval)?)
}

#[pyfunction]
fn median_time_past(times: Vec<i64>) -> PyResult<i64> {
    time::median_time_past(&times).ok_or_else(|| {
        CoreError::InvalidValue {
            what: "times",
            at: Position::Scalar,
            why: "is empty; the median time past needs at least the block's own time".into(),
        }
        .into()
    })
}

// ---------------------------------------------------------------- columns

fn bits_in(arg: &'static str, a: AnyArray) -> PyResult<CoreResult<Column<u32>>> {
    bits_column(arg, &chunks(arg, a)?)
}

#[pyfunction]
fn bits_to_difficulty_arrow(py: Python<'_>, bits: AnyArray) -> PyResult<Py<PyAny>> {
    let col = bits_prim("bits", &chunks("bits", bits)?)?;
    let out = cr(py, || {
        let col = col?;
        let v = columns::difficulty(&col.values, &|i| col.is_null(i))?;
        Ok((v, col.nulls))
    })?;
    to_py(py, prim_array::<Float64Type>(out.0, out.1))
}

#[pyfunction]
#[pyo3(signature = (bits, params=None))]
fn bits_to_target_arrow(
    py: Python<'_>,
    bits: AnyArray,
    params: Option<&PyNetworkParams>,
) -> PyResult<Py<PyAny>> {
    let col = bits_in("bits", bits)?;
    let lim = params.map(|p| p.inner.pow_limit);
    let out = cr(py, || {
        map_col(&col?, |b| {
            let t = match &lim {
                Some(l) => target::derive_target(b, l)?,
                None => target::target_of_bits(b)?,
            };
            Ok(target::u256_hex(&t))
        })
    })?;
    to_py(py, str_array(out))
}

#[pyfunction]
fn target_to_bits_arrow(py: Python<'_>, target: AnyArray) -> PyResult<Py<PyAny>> {
    let col = u256_column("target", &chunks("target", target)?)?;
    let out = cr(py, || map_col(&col?, |t| Ok(target::encode(t, false))))?;
    to_py(py, u32_array(out))
}

#[pyfunction]
fn target_to_difficulty_arrow(py: Python<'_>, target: AnyArray) -> PyResult<Py<PyAny>> {
    let col = u256_column("target", &chunks("target", target)?)?;
    let out = cr(py, || map_col(&col?, |t| target::target_to_difficulty(&t)))?;
    to_py(py, f64_array(out))
}

/// Work per row: 64-digit hex (exact, Core's RPC form) or f64 (Core's getdouble).
#[pyfunction]
#[pyo3(signature = (bits, as_float=false, strict=true))]
fn work_arrow(py: Python<'_>, bits: AnyArray, as_float: bool, strict: bool) -> PyResult<Py<PyAny>> {
    let col = bits_prim("bits", &chunks("bits", bits)?)?;
    if as_float {
        let (v, nulls) = cr(py, || {
            let col = col?;
            Ok((
                columns::work_f64(&col.values, &|i| col.is_null(i), strict)?,
                col.nulls,
            ))
        })?;
        to_py(py, prim_array::<Float64Type>(v, nulls))
    } else {
        let ((views, buffers), nulls) = cr(py, || {
            let col = col?;
            Ok((
                columns::work_hex_views(&col.values, &|i| col.is_null(i), strict)?,
                col.nulls,
            ))
        })?;
        to_py(py, string_views(views, buffers, nulls)?)
    }
}

#[pyfunction]
fn is_canonical_bits_arrow(py: Python<'_>, bits: AnyArray) -> PyResult<Py<PyAny>> {
    let col = bits_in("bits", bits)?;
    let out = cr(py, || map_col(&col?, |b| Ok(target::is_canonical(b))))?;
    to_py(py, bool_array(out))
}

#[pyfunction]
fn block_subsidy_arrow(py: Python<'_>, height: AnyArray, interval: i64) -> PyResult<Py<PyAny>> {
    let col = i64_prim("height", &chunks("height", height)?)?;
    let (v, nulls) = cr(py, || {
        let col = col?;
        Ok((
            columns::subsidy(&col.values, &|i| col.is_null(i), interval)?,
            col.nulls,
        ))
    })?;
    let arr = arrow_array::Int64Array::new(super::convert::scalars(v), nulls);
    to_py(py, std::sync::Arc::new(arr) as arrow_array::ArrayRef)
}

#[pyfunction]
fn issuance_through_arrow(py: Python<'_>, height: AnyArray, interval: i64) -> PyResult<Py<PyAny>> {
    let col = i64_column("height", &chunks("height", height)?)?;
    let out = cr(py, || {
        map_col(&col?, |h| subsidy::issuance_through(h, interval))
    })?;
    to_py(py, i64_array(out))
}

/// Retarget rule per row: `CalculateNextWorkRequired(last_bits, last_time, first_bits, first_time)`.
/// A null in any input gives a null output.
#[pyfunction]
fn calculate_next_bits_arrow(
    py: Python<'_>,
    last_bits: AnyArray,
    last_time: AnyArray,
    first_bits: AnyArray,
    first_time: AnyArray,
    params: &PyNetworkParams,
) -> PyResult<Py<PyAny>> {
    let lb = bits_in("last_bits", last_bits)?;
    let lt = i64_column("last_time", &chunks("last_time", last_time)?)?;
    let fb = bits_in("first_bits", first_bits)?;
    let ft = i64_column("first_time", &chunks("first_time", first_time)?)?;
    let p = &params.inner;
    let out = cr(py, || {
        let (lb, lt, fb, ft) = (lb?, lt?, fb?, ft?);
        let n = lb.len();
        if lt.len() != n || fb.len() != n || ft.len() != n {
            return Err(CoreError::InvalidValue {
                what: "columns",
                at: Position::Scalar,
                why: format!(
                    "last_bits, last_time, first_bits, first_time have lengths {n}, {}, {}, {}; they must match",
                    lt.len(),
                    fb.len(),
                    ft.len()
                ),
            });
        }
        (0..n)
            .map(|i| match (lb[i], lt[i], fb[i], ft[i]) {
                (Some(a), Some(b), Some(c), Some(d)) => {
                    retarget::calculate_next_work_required(a, b, c, d, p)
                        .map(Some)
                        .map_err(|e| e.at_row(i))
                }
                _ => Ok(None),
            })
            .collect::<CoreResult<Vec<_>>>()
    })?;
    to_py(py, u32_array(out))
}

/// For each row of a consecutive header run, the bits consensus requires of it given the
/// rows before it (null where the run lacks the context: the first row, or a retarget whose
/// period started before the run).
#[pyfunction]
fn required_bits_run(
    py: Python<'_>,
    start_height: i64,
    times: Vec<i64>,
    bits: Vec<u32>,
    params: &PyNetworkParams,
) -> PyResult<Py<PyAny>> {
    let p = &params.inner;
    let out = cr(py, || required_bits(start_height, &times, &bits, p))?;
    to_py(py, u32_array(out))
}

pub fn required_bits(
    start_height: i64,
    times: &[i64],
    bits: &[u32],
    p: &NetworkParams,
) -> CoreResult<Column<u32>> {
    if times.len() != bits.len() {
        return Err(CoreError::InvalidValue {
            what: "chain",
            at: Position::Scalar,
            why: format!(
                "times ({}) and bits ({}) differ in length",
                times.len(),
                bits.len()
            ),
        });
    }
    let view = SliceChain {
        start_height,
        times,
        bits,
    };
    (0..times.len())
        .map(|i| {
            let h = start_height + i as i64;
            if h == 0 {
                return Ok(Some(p.genesis_bits));
            }
            if i == 0 {
                return Ok(None);
            }
            match retarget::next_work_required(&view, h - 1, Some(times[i]), p) {
                Ok(b) => Ok(Some(b)),
                // Context before the run: unknown, not wrong.
                Err(CoreError::InvalidValue {
                    what: "chain context",
                    ..
                }) => Ok(None),
                Err(e) => Err(e.at(Position::Height(h))),
            }
        })
        .collect::<CoreResult<Vec<_>>>()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyNetworkParams>()?;
    m.add_function(wrap_pyfunction!(decode_compact, m)?)?;
    m.add_function(wrap_pyfunction!(bits_to_target, m)?)?;
    m.add_function(wrap_pyfunction!(target_to_bits, m)?)?;
    m.add_function(wrap_pyfunction!(bits_to_difficulty, m)?)?;
    m.add_function(wrap_pyfunction!(target_to_difficulty, m)?)?;
    m.add_function(wrap_pyfunction!(work, m)?)?;
    m.add_function(wrap_pyfunction!(target_work, m)?)?;
    m.add_function(wrap_pyfunction!(check_proof_of_work, m)?)?;
    m.add_function(wrap_pyfunction!(is_canonical_bits, m)?)?;
    m.add_function(wrap_pyfunction!(calculate_next_bits, m)?)?;
    m.add_function(wrap_pyfunction!(next_bits, m)?)?;
    m.add_function(wrap_pyfunction!(permitted_difficulty_transition, m)?)?;
    m.add_function(wrap_pyfunction!(block_subsidy, m)?)?;
    m.add_function(wrap_pyfunction!(halving_heights, m)?)?;
    m.add_function(wrap_pyfunction!(total_issuance, m)?)?;
    m.add_function(wrap_pyfunction!(issuance_through, m)?)?;
    m.add_function(wrap_pyfunction!(median_time_past, m)?)?;
    m.add_function(wrap_pyfunction!(bits_to_difficulty_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(bits_to_target_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(target_to_bits_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(target_to_difficulty_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(work_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(is_canonical_bits_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(block_subsidy_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(issuance_through_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(calculate_next_bits_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(required_bits_run, m)?)?;
    Ok(())
}
