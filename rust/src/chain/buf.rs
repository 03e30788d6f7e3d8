//! Large byte buffers for the chain frame, backed by anonymous memory mappings advised for
//! transparent huge pages.
//!
//! A 1,000,000-header frame is ~400 MB of fresh memory (the raw file, four 64-digit hex
//! columns, their string views). With 4 KiB pages the kernel takes ~100,000 page faults to
//! hand it over (fault, zero, cgroup charge, later unmap): measured at about a third of all
//! CPU time of `validate`. `MADV_HUGEPAGE` on a 2 MiB-aligned mapping makes that ~200 faults.
//! Everything goes through `memmap2`'s safe API; when a mapping cannot be made, the buffer
//! falls back to an ordinary heap `Vec` (same contents, only slower to fault in).
//!
//! The mapping starts zero-filled and untouched, so nothing is written twice: callers
//! overwrite every byte they use.

use std::ops::{Deref, DerefMut};

use memmap2::MmapMut;

/// Mappings at least this long are rounded up to a whole number of huge pages (the kernel
/// aligns anonymous mappings to a huge page only when their length is a multiple of it).
const HUGE: usize = 2 << 20;

/// A zero-filled byte buffer of a fixed length.
#[derive(Debug)]
pub enum BigBuf {
    /// An anonymous mapping (possibly longer than `len`, rounded to huge pages).
    Map { map: MmapMut, len: usize },
    /// Small buffers, and the fallback when a mapping cannot be made.
    Heap(Vec<u8>),
}

impl BigBuf {
    /// `len` zero bytes; large buffers are mapped and advised for huge pages.
    pub fn zeroed(len: usize) -> Self {
        if len < HUGE / 2 {
            return Self::Heap(vec![0u8; len]);
        }
        let mapped_len = len.div_ceil(HUGE) * HUGE;
        match MmapMut::map_anon(mapped_len) {
            Ok(map) => {
                #[cfg(target_os = "linux")]
                {
                    // Advice only: on failure (THP disabled) the pages are just 4 KiB ones.
                    let _ = map.advise(memmap2::Advice::HugePage);
                }
                Self::Map { map, len }
            }
            Err(_) => Self::Heap(vec![0u8; len]),
        }
    }

    /// A copy of `data` (used for small inputs and by tests).
    pub fn from_slice(data: &[u8]) -> Self {
        let mut b = Self::zeroed(data.len());
        b.copy_from_slice(data);
        b
    }

    /// Whether the buffer is an anonymous mapping (page-aligned).
    pub fn is_mapped(&self) -> bool {
        matches!(self, Self::Map { .. })
    }
}

impl From<Vec<u8>> for BigBuf {
    fn from(v: Vec<u8>) -> Self {
        Self::Heap(v)
    }
}

impl Default for BigBuf {
    fn default() -> Self {
        Self::Heap(Vec::new())
    }
}

impl Clone for BigBuf {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl Deref for BigBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Map { map, len } => &map[..*len],
            Self::Heap(v) => v,
        }
    }
}

impl DerefMut for BigBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Self::Map { map, len } => &mut map[..*len],
            Self::Heap(v) => v,
        }
    }
}

impl PartialEq for BigBuf {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

/// A zero-filled column of plain numbers: a huge-page mapping cast to `[T]` (page-aligned,
/// so the safe `bytemuck` cast always succeeds; checked once here), or a `Vec` for small
/// columns and when no mapping can be made. Used for the scenario engine's output frame
/// (1.7 GB for 10,000 paths × 5 years), where 4 KiB page faults were a quarter of the CPU.
#[derive(Debug)]
pub enum NumCol<T: bytemuck::Pod> {
    Map { buf: BigBuf, n: usize },
    Heap(Vec<T>),
}

impl<T: bytemuck::Pod> NumCol<T> {
    /// `n` zeros.
    #[must_use]
    pub fn zeroed(n: usize) -> Self {
        let bytes = n * std::mem::size_of::<T>();
        let buf = BigBuf::zeroed(bytes);
        if buf.is_mapped() && bytemuck::try_cast_slice::<u8, T>(&buf[..bytes]).is_ok() {
            return Self::Map { buf, n };
        }
        Self::Heap(vec![T::zeroed(); n])
    }
}

impl<T: bytemuck::Pod> Default for NumCol<T> {
    fn default() -> Self {
        Self::Heap(Vec::new())
    }
}

impl<T: bytemuck::Pod> Clone for NumCol<T> {
    fn clone(&self) -> Self {
        Self::Heap(self.to_vec())
    }
}

impl<T: bytemuck::Pod> Deref for NumCol<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            // alignment and length were checked in `zeroed`; the fallback is unreachable
            Self::Map { buf, n } => {
                bytemuck::try_cast_slice(&buf[..n * std::mem::size_of::<T>()]).unwrap_or(&[])
            }
            Self::Heap(v) => v,
        }
    }
}

impl<T: bytemuck::Pod> DerefMut for NumCol<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Self::Map { buf, n } => {
                let bytes = *n * std::mem::size_of::<T>();
                bytemuck::try_cast_slice_mut(&mut buf[..bytes]).unwrap_or(&mut [])
            }
            Self::Heap(v) => v,
        }
    }
}

impl<T: bytemuck::Pod + PartialEq> PartialEq for NumCol<T> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_col_is_a_zeroed_typed_slice() {
        for n in [0usize, 3, 1 << 20] {
            let mut c = NumCol::<f64>::zeroed(n);
            assert_eq!(c.len(), n);
            assert!(c.iter().all(|&x| x == 0.0));
            if n > 0 {
                c[n - 1] = 2.5;
                assert_eq!(c[n - 1], 2.5);
            }
        }
        assert!(matches!(NumCol::<u32>::zeroed(1 << 20), NumCol::Map { .. }));
    }

    #[test]
    fn small_and_large_are_zeroed_and_writable() {
        for len in [0usize, 10, HUGE / 2 - 1, HUGE / 2, HUGE + 3, 3 * HUGE] {
            let mut b = BigBuf::zeroed(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0));
            if len > 0 {
                b[len - 1] = 7;
                assert_eq!(b[len - 1], 7);
            }
            let c = b.clone();
            assert_eq!(c, b);
        }
        assert!(!BigBuf::zeroed(10).is_mapped());
    }
}
