//! Bindings for `hashpivot.chain`: header readers, the chain frame (one Arrow table) and
//! validation. Raw headers stay in Rust (`RawHeaders`) between reading and framing, so a
//! file is never held twice.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StringViewArray, TimestampMicrosecondArray, UInt32Array,
};
use arrow_buffer::{Buffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::input::AnyArray;
use pyo3_arrow::PyTable;
use rayon::prelude::*;

use super::consensus::PyNetworkParams;
use super::convert::{bits_column, chunks, i64_column, scalars};
use super::errors::dtype_error;
use crate::chain::buf::{BigBuf, NumCol};
use crate::chain::header::{decode_hex_into, parse_display_hex, Header, HEADER_LEN};
use crate::chain::validate::{build, ChainColumns, Check, Context, ContextRow};
use crate::chain::{read, synth};
use crate::consensus::target::parse_u256_hex;
use crate::error::{CoreError, CoreResult, Position};

/// Consecutive raw 80-byte headers held in Rust.
#[pyclass(name = "RawHeaders", module = "hashpivot._core", frozen)]
pub struct PyRawHeaders {
    data: BigBuf,
}

#[pymethods]
impl PyRawHeaders {
    /// Copy raw bytes (a whole number of 80-byte headers).
    #[staticmethod]
    #[pyo3(signature = (data, source="bytes"))]
    fn from_bytes(data: &[u8], source: &str) -> PyResult<Self> {
        read::check_raw(source, data)?;
        Ok(Self {
            data: BigBuf::from_slice(data),
        })
    }
    fn __len__(&self) -> usize {
        self.data.len() / HEADER_LEN
    }
    /// Headers `start .. stop` as a new object, with Python's slice rules: a negative index
    /// counts from the end, indices are clamped to the headers, `stop ≤ start` is empty.
    fn slice(&self, start: i64, stop: i64) -> Self {
        let n = self.data.len() / HEADER_LEN;
        let at = |i: i64| -> usize {
            let n64 = i64::try_from(n).unwrap_or(i64::MAX);
            let j = if i < 0 {
                n64.saturating_add(i).max(0)
            } else {
                i.min(n64)
            };
            usize::try_from(j).unwrap_or(0)
        };
        let (a, b) = (at(start), at(stop).max(at(start)));
        Self {
            data: BigBuf::from_slice(&self.data[a * HEADER_LEN..b * HEADER_LEN]),
        }
    }
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }
    /// Whether the first header's previous hash is all zero (a genesis block).
    fn starts_at_genesis(&self) -> bool {
        self.data.len() >= HEADER_LEN && self.data[4..36].iter().all(|&b| b == 0)
    }
    fn __repr__(&self) -> String {
        format!("RawHeaders({} headers)", self.data.len() / HEADER_LEN)
    }
}

/// Trusted headers before (or overlapping) a run: checkpoints and the carry of a stream.
#[pyclass(name = "ChainContext", module = "hashpivot._core", frozen)]
#[derive(Clone)]
pub struct PyChainContext {
    inner: Context,
}

#[pymethods]
impl PyChainContext {
    /// Rows of trusted headers; `hash` (display hex) and `chainwork` (hex) may be None.
    #[new]
    fn new(
        height: Vec<i64>,
        time: Vec<i64>,
        bits: Vec<u32>,
        hash: Vec<Option<String>>,
        chainwork: Vec<Option<String>>,
    ) -> PyResult<Self> {
        let n = height.len();
        if time.len() != n || bits.len() != n || hash.len() != n || chainwork.len() != n {
            return Err(CoreError::InvalidValue {
                what: "checkpoint",
                at: Position::Scalar,
                why: "height, time, bits, hash and chainwork must have the same length".into(),
            }
            .into());
        }
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let h = match &hash[i] {
                None => None,
                Some(s) => Some(parse_display_hex(s.trim().as_bytes()).ok_or_else(|| {
                    CoreError::Format {
                        source_name: "checkpoint hash".into(),
                        at: Position::Row(i),
                        why: format!("{s:?} is not 64 hex digits"),
                    }
                })?),
            };
            let cw = match &chainwork[i] {
                None => None,
                Some(s) => Some(parse_u256_hex(s).map_err(|e| e.at_row(i))?),
            };
            rows.push(ContextRow {
                height: height[i],
                time: time[i],
                bits: bits[i],
                hash: h,
                chainwork: cw,
            });
        }
        Ok(Self {
            inner: Context::new(rows),
        })
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    /// Heights held, ascending.
    fn heights(&self) -> Vec<i64> {
        self.inner.rows().map(|r| r.height).collect()
    }
    fn __repr__(&self) -> String {
        let hs: Vec<i64> = self.inner.rows().map(|r| r.height).collect();
        match (hs.first(), hs.last()) {
            (Some(a), Some(b)) => format!("ChainContext({} rows, heights {a}..{b})", hs.len()),
            _ => "ChainContext(empty)".into(),
        }
    }
}

#[pyfunction]
fn read_raw_file(py: Python<'_>, path: PathBuf) -> PyResult<PyRawHeaders> {
    let data = py.detach(|| read::read_raw_file(&path))?;
    Ok(PyRawHeaders { data })
}

/// Read the headers of Core block files (in the order given), then put them in chain order.
/// Returns the headers and whether the chain starts at a genesis block.
#[pyfunction]
#[pyo3(signature = (paths, network, xor_key=None, magic=None))]
fn read_blk_files(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    network: &str,
    xor_key: Option<Vec<u8>>,
    magic: Option<[u8; 4]>,
) -> PyResult<(PyRawHeaders, bool)> {
    let magic = match magic.or_else(|| read::network_magic(network)) {
        Some(m) => m,
        None => {
            return Err(CoreError::InvalidValue {
                what: "magic",
                at: Position::Scalar,
                why: format!(
                    "network {network:?} has no built-in block-file magic; pass magic=b\"....\" (4 bytes)"
                ),
            }
            .into())
        }
    };
    let key = xor_key.unwrap_or_default();
    let (data, genesis) = py.detach(|| -> CoreResult<(Vec<u8>, bool)> {
        let mut all = Vec::new();
        for p in &paths {
            all.extend(read::read_blk_file(p, magic, &key)?);
        }
        let src = paths
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        read::order_chain(&src, &all)
    })?;
    Ok((PyRawHeaders { data: data.into() }, genesis))
}

#[pyfunction]
#[pyo3(signature = (text, source="hex"))]
fn headers_from_hex(py: Python<'_>, text: &str, source: &str) -> PyResult<PyRawHeaders> {
    let data = py.detach(|| read::parse_hex_text(source, text))?;
    Ok(PyRawHeaders { data: data.into() })
}

fn str_or_bin_chunks(arg: &str, a: AnyArray) -> PyResult<(Vec<ArrayRef>, bool)> {
    let cs = chunks(arg, a)?;
    let dt = cs.first().map(|c| c.data_type().clone());
    let (target, is_hex) = match dt {
        Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) | None => {
            (DataType::LargeUtf8, true)
        }
        Some(
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_),
        ) => (DataType::LargeBinary, false),
        Some(other) => {
            return Err(dtype_error(
                arg,
                &other.to_string(),
                "hex strings (pl.String) or 80-byte binary (pl.Binary)",
            ))
        }
    };
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        out.push(arrow_cast::cast(&c, &target).map_err(|e| {
            dtype_error(arg, &format!("{} ({e})", c.data_type()), "string or binary")
        })?);
    }
    Ok((out, is_hex))
}

/// One header per element: hex strings or 80-byte binary values.
#[pyfunction]
#[pyo3(signature = (column, source="column"))]
fn headers_from_arrow(py: Python<'_>, column: AnyArray, source: &str) -> PyResult<PyRawHeaders> {
    let (cs, is_hex) = str_or_bin_chunks(source, column)?;
    let src = source.to_string();
    let data = py.detach(move || {
        let items = cs.iter().flat_map(|c| -> Vec<Option<&[u8]>> {
            if is_hex {
                c.as_string::<i64>()
                    .iter()
                    .map(|s| s.map(str::as_bytes))
                    .collect()
            } else {
                c.as_binary::<i64>().iter().collect()
            }
        });
        read::join_elements(&src, items, is_hex)
    })?;
    Ok(PyRawHeaders { data: data.into() })
}

fn hash_column(arg: &str, a: AnyArray) -> PyResult<CoreResult<Vec<[u8; 32]>>> {
    let (cs, is_hex) = str_or_bin_chunks(arg, a)?;
    if !is_hex {
        return Err(dtype_error(
            arg,
            "binary",
            "64-digit hex strings (pl.String)",
        ));
    }
    let mut out = Vec::new();
    let mut row = 0usize;
    for c in &cs {
        for s in c.as_string::<i64>().iter() {
            let h = s.and_then(|s| parse_display_hex(s.as_bytes()));
            match h {
                Some(h) => out.push(h),
                None => {
                    return Ok(Err(CoreError::Format {
                        source_name: arg.to_string(),
                        at: Position::Row(row),
                        why: format!("{s:?} is not a 64-digit hex hash"),
                    }))
                }
            }
            row += 1;
        }
    }
    Ok(Ok(out))
}

/// Serialise frame columns back to raw headers (for validating a frame).
#[pyfunction]
fn headers_from_columns(
    py: Python<'_>,
    version: AnyArray,
    prev_hash: AnyArray,
    merkle_root: AnyArray,
    time_unix: AnyArray,
    bits: AnyArray,
    nonce: AnyArray,
) -> PyResult<PyRawHeaders> {
    let v = i64_column("version", &chunks("version", version)?)?;
    let t = i64_column("time_unix", &chunks("time_unix", time_unix)?)?;
    let b = bits_column("bits", &chunks("bits", bits)?)?;
    let nn = i64_column("nonce", &chunks("nonce", nonce)?)?;
    let p = hash_column("prev_hash", prev_hash)?;
    let m = hash_column("merkle_root", merkle_root)?;
    let data = py.detach(move || -> CoreResult<Vec<u8>> {
        let (v, t, b, nn, p, m) = (v?, t?, b?, nn?, p?, m?);
        let n = v.len();
        if [t.len(), b.len(), nn.len(), p.len(), m.len()]
            .iter()
            .any(|&l| l != n)
        {
            return Err(CoreError::InvalidValue {
                what: "frame",
                at: Position::Scalar,
                why: "header columns differ in length".into(),
            });
        }
        let mut out = Vec::with_capacity(n * HEADER_LEN);
        for i in 0..n {
            let bad = |what: &'static str, why: &str| CoreError::InvalidValue {
                what,
                at: Position::Row(i),
                why: why.to_string(),
            };
            let version = v[i].ok_or_else(|| bad("version", "is null"))?;
            let version = i32::try_from(version)
                .or_else(|_| u32::try_from(version).map(|x| x as i32))
                .map_err(|_| bad("version", "does not fit 32 bits"))?;
            let time = t[i].ok_or_else(|| bad("time_unix", "is null"))?;
            let time =
                u32::try_from(time).map_err(|_| bad("time_unix", "is outside 0 … 2^32−1"))?;
            let bits = b[i].ok_or_else(|| bad("bits", "is null"))?;
            let nonce = nn[i].ok_or_else(|| bad("nonce", "is null"))?;
            let nonce = u32::try_from(nonce).map_err(|_| bad("nonce", "is outside 0 … 2^32−1"))?;
            out.extend_from_slice(
                &Header {
                    version,
                    prev: p[i],
                    merkle: m[i],
                    time,
                    bits,
                    nonce,
                }
                .serialize(),
            );
        }
        Ok(out)
    })?;
    Ok(PyRawHeaders { data: data.into() })
}

const VIEW_BUF_ROWS: usize = 1 << 24;

/// Hand a buffer to Arrow without copying (a mapping is kept alive by the Arrow buffer).
fn arrow_buffer(b: BigBuf) -> Buffer {
    match b {
        BigBuf::Map { map, len } => {
            Buffer::from(bytes::Bytes::from_owner(map)).slice_with_length(0, len)
        }
        BigBuf::Heap(v) => Buffer::from_vec(v),
    }
}

/// Fixed-width 64-byte strings as a StringView array (no per-row allocation; the views are
/// written in parallel into one huge-page buffer).
fn hex_view_array(values: BigBuf, n: usize, valid: bool) -> PyResult<ArrayRef> {
    if !valid {
        return Ok(arrow_array::new_null_array(&DataType::Utf8View, n));
    }
    let mut views = BigBuf::for_overwrite(n * 16); // every view is written below
    {
        let vals: &[u8] = &values;
        views
            .par_chunks_mut(16 * 4096)
            .zip(vals.par_chunks(64 * 4096))
            .enumerate()
            .for_each(|(c, (vs, xs))| {
                for (j, (v, s)) in vs.chunks_exact_mut(16).zip(xs.chunks_exact(64)).enumerate() {
                    let row = c * 4096 + j;
                    let bi = (row / VIEW_BUF_ROWS) as u128;
                    let off = ((row % VIEW_BUF_ROWS) * 64) as u128;
                    let prefix = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u128;
                    let view = 64u128 | (prefix << 32) | (bi << 64) | (off << 96);
                    v.copy_from_slice(&view.to_le_bytes());
                }
            });
    }
    let whole = arrow_buffer(values);
    let buffers: Vec<Buffer> = (0..n.div_ceil(VIEW_BUF_ROWS))
        .map(|k| {
            let rows = (n - k * VIEW_BUF_ROWS).min(VIEW_BUF_ROWS);
            whole.slice_with_length(k * VIEW_BUF_ROWS * 64, rows * 64)
        })
        .collect();
    let mut vb = arrow_buffer(views);
    if vb.as_ptr().align_offset(16) != 0 {
        vb = Buffer::from_slice_ref(vb.as_slice()); // heap fallback: realign (copy)
    }
    let arr = StringViewArray::try_new(ScalarBuffer::new(vb, 0, n), buffers, None)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(Arc::new(arr))
}

fn to_table(c: ChainColumns) -> PyResult<PyTable> {
    let n = c.len();
    let s = c.start_height;
    let interval = c.interval;
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    // Derived columns are written whole into pooled buffers (see `buf`): a repeated
    // read or validation reuses their memory instead of faulting in fresh pages.
    let mut height = NumCol::<i64>::for_overwrite_small_pages(n);
    let mut epoch = NumCol::<i64>::for_overwrite_small_pages(n);
    let mut time_us = NumCol::<i64>::for_overwrite_small_pages(n);
    height
        .par_chunks_mut(1 << 16)
        .zip(epoch.par_chunks_mut(1 << 16))
        .zip(time_us.par_chunks_mut(1 << 16))
        .zip(c.time.par_chunks(1 << 16))
        .enumerate()
        .for_each(|(k, (((hs, es), ts), src))| {
            let first = s + (k << 16) as i64;
            for (j, ((h, e), (t, &src_t))) in hs
                .iter_mut()
                .zip(es.iter_mut())
                .zip(ts.iter_mut().zip(src))
                .enumerate()
            {
                *h = first + j as i64;
                *e = *h / interval;
                *t = src_t * 1_000_000;
            }
        });
    let mtp_us: Vec<Option<i64>> = c.mtp.iter().map(|m| m.map(|t| t * 1_000_000)).collect();
    let has_cw = c.chainwork_hex.is_some();
    let mut fields = vec![
        Field::new("height", DataType::Int64, false),
        Field::new("hash", DataType::Utf8View, false),
        Field::new("prev_hash", DataType::Utf8View, false),
        Field::new("version", DataType::Int32, false),
        Field::new("merkle_root", DataType::Utf8View, false),
        Field::new("time", utc.clone(), false),
        Field::new("time_unix", DataType::Int64, false),
        Field::new("bits", DataType::UInt32, false),
        Field::new("nonce", DataType::UInt32, false),
        Field::new("difficulty", DataType::Float64, true),
        Field::new("chainwork", DataType::Utf8View, true),
        Field::new("chainwork_f64", DataType::Float64, true),
        Field::new("epoch", DataType::Int64, false),
        Field::new("median_time_past", utc, true),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::new(scalars(height), None)),
        hex_view_array(c.hash_hex, n, true)?,
        hex_view_array(c.prev_hex, n, true)?,
        Arc::new(Int32Array::new(scalars(c.version), None)),
        hex_view_array(c.merkle_hex, n, true)?,
        Arc::new(TimestampMicrosecondArray::new(scalars(time_us), None).with_timezone("UTC")),
        Arc::new(Int64Array::new(scalars(c.time), None)),
        Arc::new(UInt32Array::new(scalars(c.bits), None)),
        Arc::new(UInt32Array::new(scalars(c.nonce), None)),
        Arc::new(Float64Array::from(c.difficulty)),
        hex_view_array(c.chainwork_hex.unwrap_or_default(), n, has_cw)?,
        match c.chainwork_f64 {
            Some(v) => Arc::new(Float64Array::new(scalars(v), None)),
            None => arrow_array::new_null_array(&DataType::Float64, n),
        },
        Arc::new(Int64Array::new(scalars(epoch), None)),
        Arc::new(TimestampMicrosecondArray::from(mtp_us).with_timezone("UTC")),
    ];
    if let Some(st) = c.status {
        fields.push(Field::new("status", DataType::Utf8, false));
        fields.push(Field::new("detail", DataType::Utf8, true));
        fields.push(Field::new("full_context", DataType::Boolean, false));
        cols.push(Arc::new(StringArray::from(
            st.rule.iter().map(|r| r.name()).collect::<Vec<_>>(),
        )));
        cols.push(Arc::new(StringArray::from(st.detail)));
        cols.push(Arc::new(BooleanArray::from(st.full_context)));
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    PyTable::try_new(vec![batch], schema)
}

/// Build the chain frame of `headers` (first at `start_height`); check the rules when
/// `check` is "raise" or "report". Returns the table and the context for the next run.
#[pyfunction]
#[pyo3(signature = (headers, start_height, params, context=None, expected_hash=None, check="none"))]
fn chain_frame(
    py: Python<'_>,
    headers: &PyRawHeaders,
    start_height: i64,
    params: &PyNetworkParams,
    context: Option<&PyChainContext>,
    expected_hash: Option<AnyArray>,
    check: &str,
) -> PyResult<(Py<PyAny>, PyChainContext)> {
    let check = match check {
        "none" => Check::None,
        "raise" => Check::Raise,
        "report" => Check::Report,
        other => {
            return Err(CoreError::InvalidValue {
                what: "mode",
                at: Position::Scalar,
                why: format!("{other:?} is not one of \"raise\", \"report\""),
            }
            .into())
        }
    };
    let expected = match expected_hash {
        None => None,
        Some(a) => Some(hash_column("hash", a)?),
    };
    let empty = Context::default();
    let ctx = context.map(|c| &c.inner).unwrap_or(&empty);
    let p = &params.inner;
    let data = &headers.data;
    let (cols, next) = py.detach(|| -> CoreResult<(ChainColumns, Context)> {
        let exp = match expected {
            None => None,
            Some(e) => Some(e?),
        };
        let cols = build(data, start_height, p, ctx, exp.as_deref(), check)?;
        let next = cols.tail_context(ctx);
        Ok((cols, next))
    })?;
    let table = py.detach(|| to_table(cols))?;
    Ok((
        Bound::new(py, table)?.into_any().unbind(),
        PyChainContext { inner: next },
    ))
}

/// Mine `n` valid headers from a synthetic genesis under (easy, custom) `params`.
#[pyfunction]
#[pyo3(signature = (n, params, seed=0))]
fn synthetic_chain(
    py: Python<'_>,
    n: usize,
    params: &PyNetworkParams,
    seed: u64,
) -> PyResult<PyRawHeaders> {
    let p = &params.inner;
    let data = py.detach(|| synth::synthetic_chain(n, p, seed))?;
    Ok(PyRawHeaders { data: data.into() })
}

/// Grind the nonce of one 80-byte header until its proof of work holds under `params`.
#[pyfunction]
fn mine_header<'py>(
    py: Python<'py>,
    header: &[u8],
    params: &PyNetworkParams,
) -> PyResult<Bound<'py, PyBytes>> {
    let raw: [u8; HEADER_LEN] = header.try_into().map_err(|_| CoreError::Format {
        source_name: "header".into(),
        at: Position::Scalar,
        why: format!("has {} bytes; a header has exactly 80", header.len()),
    })?;
    let mut h = Header::parse(&raw);
    let p = &params.inner;
    py.detach(|| synth::mine(&mut h, p))?;
    Ok(PyBytes::new(py, &h.serialize()))
}

/// Parse one header in hex (helper for tests and small inputs).
#[pyfunction]
fn header_from_hex<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyBytes>> {
    let mut raw = [0u8; HEADER_LEN];
    decode_hex_into(text.trim().as_bytes(), &mut raw).ok_or_else(|| CoreError::Format {
        source_name: "header".into(),
        at: Position::Scalar,
        why: "is not 160 hex digits".into(),
    })?;
    Ok(PyBytes::new(py, &raw))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRawHeaders>()?;
    m.add_class::<PyChainContext>()?;
    m.add_function(wrap_pyfunction!(read_raw_file, m)?)?;
    m.add_function(wrap_pyfunction!(read_blk_files, m)?)?;
    m.add_function(wrap_pyfunction!(headers_from_hex, m)?)?;
    m.add_function(wrap_pyfunction!(headers_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(headers_from_columns, m)?)?;
    m.add_function(wrap_pyfunction!(chain_frame, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic_chain, m)?)?;
    m.add_function(wrap_pyfunction!(mine_header, m)?)?;
    m.add_function(wrap_pyfunction!(header_from_hex, m)?)?;
    Ok(())
}
