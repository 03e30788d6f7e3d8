//! Arrow ⇄ Rust column conversion for the bindings (PyCapsule interface via pyo3-arrow).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;
use pyo3_arrow::PyArray;

use super::errors::dtype_error;
use crate::consensus::target::{parse_bits_hex, parse_u256_hex, U256};
use crate::error::{CoreError, CoreResult};

/// A column read from Arrow: values with a validity mask (None = null).
pub type Column<T> = Vec<Option<T>>;

/// Flatten any Arrow array/stream argument into its chunks.
pub fn chunks(arg: &str, a: AnyArray) -> PyResult<Vec<ArrayRef>> {
    let ca = a.into_chunked_array().map_err(|e| {
        dtype_error(
            arg,
            &format!("(unreadable: {e})"),
            "an Arrow array or polars Series",
        )
    })?;
    let (chunks, _field) = ca.into_inner();
    Ok(chunks)
}

fn out_of_range(
    arg: &'static str,
    row: usize,
    v: impl std::fmt::Display,
    range: &str,
) -> CoreError {
    CoreError::InvalidValue {
        what: arg,
        at: crate::error::Position::Row(row),
        why: format!("{v} is outside {range}"),
    }
}

macro_rules! push_ints {
    ($arr:expr, $t:ty, $out:expr, $conv:expr, $row0:expr) => {{
        let p = $arr.as_primitive::<$t>();
        for (i, v) in p.iter().enumerate() {
            $out.push(match v {
                None => None,
                Some(x) => Some($conv(x as i128, $row0 + i)?),
            });
        }
    }};
}

/// Read an integer column (any Arrow int type), converting each value with `conv`.
fn int_column<T>(
    arg: &'static str,
    chunks: &[ArrayRef],
    conv: impl Fn(i128, usize) -> CoreResult<T>,
    allow_hex_bits: bool,
) -> PyResult<CoreResult<Column<T>>>
where
    T: Copy,
{
    let mut out: Column<T> = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    let mut row0 = 0usize;
    let res: CoreResult<()> = (|| {
        for c in chunks {
            match c.data_type() {
                DataType::Int8 => push_ints!(c, Int8Type, out, &conv, row0),
                DataType::Int16 => push_ints!(c, Int16Type, out, &conv, row0),
                DataType::Int32 => push_ints!(c, Int32Type, out, &conv, row0),
                DataType::Int64 => push_ints!(c, Int64Type, out, &conv, row0),
                DataType::UInt8 => push_ints!(c, UInt8Type, out, &conv, row0),
                DataType::UInt16 => push_ints!(c, UInt16Type, out, &conv, row0),
                DataType::UInt32 => push_ints!(c, UInt32Type, out, &conv, row0),
                DataType::UInt64 => push_ints!(c, UInt64Type, out, &conv, row0),
                DataType::Null => out.extend(std::iter::repeat_n(None, c.len())),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if allow_hex_bits => {
                    for (i, s) in string_iter(c).into_iter().enumerate() {
                        out.push(match s {
                            None => None,
                            Some(s) => Some(conv(
                                i128::from(parse_bits_hex(&s).map_err(|e| e.at_row(row0 + i))?),
                                row0 + i,
                            )?),
                        });
                    }
                }
                _ => {
                    return Err(CoreError::InvalidValue {
                        what: "",
                        at: Default::default(),
                        why: String::new(),
                    })
                }
            }
            row0 += c.len();
        }
        Ok(())
    })();
    match res {
        Ok(()) => Ok(Ok(out)),
        Err(CoreError::InvalidValue { what: "", .. }) => {
            let found = chunks
                .first()
                .map(|c| c.data_type().to_string())
                .unwrap_or_default();
            let expected = if allow_hex_bits {
                "an integer dtype (e.g. pl.UInt32) or hex strings like \"1d00ffff\""
            } else {
                "an integer dtype (e.g. pl.Int64)"
            };
            Err(dtype_error(arg, &found, expected))
        }
        Err(e) => Ok(Err(e)),
    }
}

fn string_iter(c: &ArrayRef) -> Vec<Option<String>> {
    match c.data_type() {
        DataType::Utf8 => c
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect::<Vec<_>>(),
        DataType::LargeUtf8 => c
            .as_string::<i64>()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect::<Vec<_>>(),
        DataType::Utf8View => c
            .as_string_view()
            .iter()
            .map(|s| s.map(str::to_owned))
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    }
}

/// Compact bits: u32 values, or hex strings. Negative or > 0xffffffff values are errors.
pub fn bits_column(arg: &'static str, chunks: &[ArrayRef]) -> PyResult<CoreResult<Column<u32>>> {
    int_column(
        arg,
        chunks,
        |v, row| {
            u32::try_from(v).map_err(|_| CoreError::BitsOutOfRange {
                what: arg,
                at: crate::error::Position::Row(row),
                value: v,
            })
        },
        true,
    )
}

/// Signed 64-bit integers (heights, Unix times).
pub fn i64_column(arg: &'static str, chunks: &[ArrayRef]) -> PyResult<CoreResult<Column<i64>>> {
    int_column(
        arg,
        chunks,
        |v, row| i64::try_from(v).map_err(|_| out_of_range(arg, row, v, "the signed 64-bit range")),
        false,
    )
}

/// 256-bit values given as hex strings (64 digits, `0x` optional) or 32-byte big-endian binary.
pub fn u256_column(arg: &'static str, chunks: &[ArrayRef]) -> PyResult<CoreResult<Column<U256>>> {
    let mut out = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    let mut row0 = 0usize;
    for c in chunks {
        match c.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                for (i, s) in string_iter(c).into_iter().enumerate() {
                    match s {
                        None => out.push(None),
                        Some(s) => match parse_u256_hex(&s) {
                            Ok(v) => out.push(Some(v)),
                            Err(e) => return Ok(Err(e.at_row(row0 + i))),
                        },
                    }
                }
            }
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => {
                let vals: Vec<Option<Vec<u8>>> = match c.data_type() {
                    DataType::Binary => c
                        .as_binary::<i32>()
                        .iter()
                        .map(|b| b.map(<[u8]>::to_vec))
                        .collect::<Vec<_>>(),
                    DataType::LargeBinary => c
                        .as_binary::<i64>()
                        .iter()
                        .map(|b| b.map(<[u8]>::to_vec))
                        .collect::<Vec<_>>(),
                    DataType::BinaryView => c
                        .as_binary_view()
                        .iter()
                        .map(|b| b.map(<[u8]>::to_vec))
                        .collect::<Vec<_>>(),
                    _ => c
                        .as_fixed_size_binary()
                        .iter()
                        .map(|b| b.map(<[u8]>::to_vec))
                        .collect::<Vec<_>>(),
                };
                for (i, b) in vals.into_iter().enumerate() {
                    match b {
                        None => out.push(None),
                        Some(b) if b.len() == 32 => {
                            let mut a = [0u8; 32];
                            a.copy_from_slice(&b);
                            out.push(Some(U256::from_be_bytes(a)));
                        }
                        Some(b) => {
                            return Ok(Err(CoreError::InvalidValue {
                                what: arg,
                                at: crate::error::Position::Row(row0 + i),
                                why: format!(
                                "binary value has {} bytes; a 256-bit value needs 32 (big-endian)",
                                b.len()
                            ),
                            }))
                        }
                    }
                }
            }
            DataType::Null => out.extend(std::iter::repeat_n(None, c.len())),
            other => {
                return Err(dtype_error(
                    arg,
                    &other.to_string(),
                    "64-digit hex strings or 32-byte big-endian binary",
                ))
            }
        }
        row0 += c.len();
    }
    Ok(Ok(out))
}

/// Wrap an Arrow array for Python (`pl.Series(name, obj)` reads it via `__arrow_c_array__`).
pub fn to_py(py: Python<'_>, arr: ArrayRef) -> PyResult<Py<PyAny>> {
    Ok(Bound::new(py, PyArray::from_array_ref(arr))?
        .into_any()
        .unbind())
}

/// Build an Arrow array from a nullable column.
pub fn u32_array(v: Column<u32>) -> ArrayRef {
    Arc::new(arrow_array::UInt32Array::from(v))
}
/// Build an Arrow array from a nullable column.
pub fn i64_array(v: Column<i64>) -> ArrayRef {
    Arc::new(arrow_array::Int64Array::from(v))
}
/// Build an Arrow array from a nullable column.
pub fn f64_array(v: Column<f64>) -> ArrayRef {
    Arc::new(arrow_array::Float64Array::from(v))
}
/// Build an Arrow array from a nullable column.
pub fn bool_array(v: Column<bool>) -> ArrayRef {
    Arc::new(arrow_array::BooleanArray::from(v))
}
/// Build an Arrow Utf8 array from a nullable column of strings.
pub fn str_array(v: Column<String>) -> ArrayRef {
    Arc::new(arrow_array::StringArray::from(v))
}

/// Apply a fallible scalar kernel to every non-null element, attaching the row to errors.
pub fn map_col<I: Copy, O>(
    col: &[Option<I>],
    f: impl Fn(I) -> CoreResult<O>,
) -> CoreResult<Column<O>> {
    col.iter()
        .enumerate()
        .map(|(row, v)| match v {
            None => Ok(None),
            Some(x) => f(*x).map(Some).map_err(|e| e.at_row(row)),
        })
        .collect()
}

// ------------------------------------------------------------------ fast primitive paths

/// A primitive column: dense values plus the Arrow null buffer (null slots hold anything).
pub struct Prim<T: arrow_buffer::ArrowNativeType> {
    pub values: arrow_buffer::ScalarBuffer<T>,
    pub nulls: Option<arrow_buffer::NullBuffer>,
}

impl<T: arrow_buffer::ArrowNativeType> Prim<T> {
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n.is_null(i))
    }
}

fn single(arg: &str, chunks: &[ArrayRef]) -> PyResult<ArrayRef> {
    match chunks.len() {
        0 => Ok(Arc::new(arrow_array::NullArray::new(0))),
        1 => Ok(chunks[0].clone()),
        _ => {
            let refs: Vec<&dyn Array> = chunks.iter().map(|c| c.as_ref()).collect();
            arrow_select::concat::concat(&refs).map_err(|e| {
                dtype_error(
                    arg,
                    &format!("(chunks do not concatenate: {e})"),
                    "one dtype",
                )
            })
        }
    }
}

/// Compact bits as u32 values: zero-copy for UInt32, a checked conversion loop for other
/// integer dtypes, hex parsing for strings.
pub fn bits_prim(arg: &'static str, chunks: &[ArrayRef]) -> PyResult<CoreResult<Prim<u32>>> {
    let a = single(arg, chunks)?;
    if let DataType::UInt32 = a.data_type() {
        let p = a.as_primitive::<UInt32Type>();
        return Ok(Ok(Prim {
            values: p.values().clone(),
            nulls: p.nulls().cloned(),
        }));
    }
    // Everything else through the general (validating) reader.
    let col = match bits_column(arg, &[a])? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(from_options(col)))
}

/// Signed 64-bit integers: zero-copy for Int64, checked conversion otherwise.
pub fn i64_prim(arg: &'static str, chunks: &[ArrayRef]) -> PyResult<CoreResult<Prim<i64>>> {
    let a = single(arg, chunks)?;
    if let DataType::Int64 = a.data_type() {
        let p = a.as_primitive::<Int64Type>();
        return Ok(Ok(Prim {
            values: p.values().clone(),
            nulls: p.nulls().cloned(),
        }));
    }
    let col = match i64_column(arg, &[a])? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(from_options(col)))
}

fn from_options<T: arrow_buffer::ArrowNativeType + Default>(col: Column<T>) -> Prim<T> {
    let nulls = if col.iter().any(Option::is_none) {
        Some(arrow_buffer::NullBuffer::from(
            col.iter().map(Option::is_some).collect::<Vec<_>>(),
        ))
    } else {
        None
    };
    let values: Vec<T> = col.into_iter().map(Option::unwrap_or_default).collect();
    Prim {
        values: values.into(),
        nulls,
    }
}

/// Wrap dense values + nulls as an Arrow primitive array.
pub fn prim_array<T: arrow_array::ArrowPrimitiveType>(
    values: Vec<T::Native>,
    nulls: Option<arrow_buffer::NullBuffer>,
) -> ArrayRef {
    Arc::new(arrow_array::PrimitiveArray::<T>::new(values.into(), nulls))
}

/// Check what `StringViewArray::try_new` would: every buffer is UTF-8 (here: ASCII), every
/// view is either an inline string (len ≤ 12, unused bytes zero) or points inside its buffer
/// with a matching 4-byte prefix. Linear in rows, without re-decoding each string.
fn views_are_valid(views: &[u128], buffers: &[Vec<u8>]) -> bool {
    if !buffers.iter().all(|b| b.is_ascii()) {
        return false;
    }
    views.iter().all(|&v| {
        let len = (v as u32) as usize;
        if len <= 12 {
            // inline: bytes past `len` must be zero; we only ever emit the empty view
            return v >> (32 + 8 * len) == 0 || len == 12;
        }
        let prefix = ((v >> 32) as u32).to_le_bytes();
        let (b, o) = (((v >> 64) as u32) as usize, (v >> 96) as usize);
        buffers
            .get(b)
            .and_then(|buf| buf.get(o..o.checked_add(len)?))
            .is_some_and(|s| s[..4] == prefix)
    })
}

/// Wrap string views + buffers (as built by `consensus::columns::work_hex_views`) as an Arrow
/// Utf8View array; polars imports it without copying the strings.
pub fn string_views(
    views: Vec<u128>,
    buffers: Vec<Vec<u8>>,
    nulls: Option<arrow_buffer::NullBuffer>,
) -> PyResult<ArrayRef> {
    if !views_are_valid(&views, &buffers) {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "internal: invalid string views (please report)",
        ));
    }
    let buffers: Vec<arrow_buffer::Buffer> = buffers
        .into_iter()
        .map(arrow_buffer::Buffer::from_vec)
        .collect();
    #[allow(unsafe_code)]
    // SAFETY: `views_are_valid` checked every condition `try_new` checks (ASCII ⊂ UTF-8,
    // in-bounds views with matching prefixes, canonical inline views); the null buffer, if
    // any, has the views' length because both come from the same input column. `try_new`
    // re-decodes every 64-byte string as UTF-8, which cost most of the kernel's time.
    let arr = unsafe { arrow_array::StringViewArray::new_unchecked(views.into(), buffers, nulls) };
    Ok(Arc::new(arr))
}

/// Hand a number column to Arrow without copying: a huge-page mapping becomes the Arrow
/// buffer's owner (kept alive by it), a `Vec` is moved.
pub fn scalars<T: bytemuck::Pod + arrow_buffer::ArrowNativeType>(
    c: crate::chain::buf::NumCol<T>,
) -> arrow_buffer::ScalarBuffer<T> {
    match c {
        crate::chain::buf::NumCol::Map { buf, n } => {
            let bytes = n * std::mem::size_of::<T>();
            match buf {
                crate::chain::buf::BigBuf::Map { map, .. } => arrow_buffer::ScalarBuffer::new(
                    arrow_buffer::Buffer::from(bytes::Bytes::from_owner(map))
                        .slice_with_length(0, bytes),
                    0,
                    n,
                ),
                // (crate::chain::buf::NumCol::Map always holds a mapping; a heap buffer would be copied typed)
                crate::chain::buf::BigBuf::Heap(v) => {
                    arrow_buffer::ScalarBuffer::from(bytemuck::pod_collect_to_vec::<u8, T>(&v))
                }
            }
        }
        crate::chain::buf::NumCol::Heap(v) => arrow_buffer::ScalarBuffer::from(v),
    }
}
