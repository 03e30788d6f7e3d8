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
//!
//! **Reuse.** Handing fresh memory over costs the kernel a page fault and a zero-fill per page
//! (and, on a virtual machine whose host reclaims freed memory, a host fault as well: measured
//! here at up to 2.5 s per GB). Buffers made by [`BigBuf::for_overwrite`] — whose owner writes
//! every byte, like the scenario engine's output columns — go back to a small pool when
//! dropped (also when Arrow / polars drops them), and a later `for_overwrite` of the same
//! mapped length takes one from there with its old contents instead of new memory. The pool
//! holds at most [`POOL_CAP`] bytes, each mapping for about [`POOL_KEEP`] (a background
//! thread checks every second and unmaps older ones), like the decay of dirty pages in
//! jemalloc. Pooled mappings are not inherited by `fork` (`MADV_DONTFORK`). Set
//! `HASHPIVOT_BUFFER_POOL=0` to turn it off.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use memmap2::MmapMut;

/// Mappings at least this long are rounded up to a whole number of huge pages (the kernel
/// aligns anonymous mappings to a huge page only when their length is a multiple of it).
const HUGE: usize = 2 << 20;
/// The most bytes the pool keeps, and how long it keeps a mapping.
pub const POOL_CAP: usize = 4 << 30;
pub const POOL_KEEP: Duration = Duration::from_secs(10);

/// Freed mappings waiting for reuse (oldest first), in the process `pid`, and whether that
/// process's trimming thread runs.
#[derive(Default)]
struct Pool {
    maps: Vec<(Instant, MmapMut)>,
    bytes: usize,
    pid: u32,
    trimmer: bool,
}

impl Pool {
    /// Make the pool this process's. Pooled mappings are advised `MADV_DONTFORK`, so a child
    /// made by `fork` does not inherit their memory, only the list: the child forgets it (it
    /// must not unmap addresses that are not its mappings) and starts empty.
    fn own(&mut self) {
        let pid = std::process::id();
        if self.pid != pid {
            for (_, m) in self.maps.drain(..) {
                std::mem::forget(m);
            }
            (self.bytes, self.pid, self.trimmer) = (0, pid, false);
        }
    }

    /// A pooled mapping of exactly `len` bytes (the newest).
    fn take(&mut self, len: usize) -> Option<MmapMut> {
        let i = self.maps.iter().rposition(|(_, m)| m.len() == len)?;
        self.bytes -= len;
        Some(self.maps.remove(i).1)
    }

    /// Add `map`; returns what no longer fits under [`POOL_CAP`] (oldest first), to be
    /// unmapped by the caller after releasing the lock.
    fn put(&mut self, map: MmapMut, now: Instant) -> Vec<MmapMut> {
        if map.len() > POOL_CAP {
            return vec![map];
        }
        let mut out = Vec::new();
        while self.bytes + map.len() > POOL_CAP && !self.maps.is_empty() {
            let (_, old) = self.maps.remove(0);
            self.bytes -= old.len();
            out.push(old);
        }
        self.bytes += map.len();
        self.maps.push((now, map));
        out
    }

    /// Remove the mappings pooled [`POOL_KEEP`] or longer before `now` and return them.
    fn expire(&mut self, now: Instant) -> Vec<MmapMut> {
        let (old, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.maps)
            .into_iter()
            .partition(|(t, _)| now.duration_since(*t) >= POOL_KEEP);
        self.maps = keep;
        self.bytes = self.maps.iter().map(|(_, m)| m.len()).sum();
        old.into_iter().map(|(_, m)| m).collect()
    }
}

fn pool() -> Option<&'static Mutex<Pool>> {
    static POOL: OnceLock<Option<Mutex<Pool>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let off = std::env::var("HASHPIVOT_BUFFER_POOL").is_ok_and(|v| v.trim() == "0");
        (!off).then(Mutex::default)
    })
    .as_ref()
}

/// Advise whether a child made by `fork` inherits the mapping (Linux; advice only).
fn inherit_on_fork(map: &MmapMut, yes: bool) {
    #[cfg(target_os = "linux")]
    {
        let advice = if yes {
            memmap2::Advice::DoFork
        } else {
            memmap2::Advice::DontFork
        };
        let _ = map.advise(advice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (map, yes);
}

/// A mapping of `len` bytes from the pool, if one is there. The engine's side only
/// `try_lock`s: a busy pool is bypassed, never waited for.
fn pool_take(len: usize) -> Option<MmapMut> {
    let map = {
        let mut p = pool()?.try_lock().ok()?;
        p.own();
        p.take(len)?
    };
    inherit_on_fork(&map, true); // it becomes a frame's memory again
    Some(map)
}

/// Put `map` in the pool (or unmap it if the pool is off or busy) and make sure this process
/// has a trimming thread.
fn pool_put(map: MmapMut) {
    let Some(pool) = pool() else { return };
    inherit_on_fork(&map, false);
    let Ok(mut p) = pool.try_lock() else { return };
    p.own();
    let mut evicted = p.put(map, Instant::now());
    if !p.trimmer {
        let spawned = std::thread::Builder::new()
            .name("hashpivot-buffer-pool".into())
            .spawn(move || trim(pool));
        p.trimmer = spawned.is_ok();
        if !p.trimmer {
            // no thread to age them out: keep nothing
            evicted.extend(std::mem::take(&mut p.maps).into_iter().map(|(_, m)| m));
            p.bytes = 0;
        }
    }
    drop(p);
    drop(evicted); // unmapped outside the lock
}

/// Every second, unmap pooled mappings older than [`POOL_KEEP`] (outside the lock); stop when
/// the pool is empty.
fn trim(pool: &'static Mutex<Pool>) {
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let mut p = pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = p.expire(Instant::now());
        let done = p.maps.is_empty();
        if done {
            p.trimmer = false;
        }
        drop(p);
        drop(old);
        if done {
            return;
        }
    }
}

/// An anonymous mapping; one made for overwriting returns to the pool when dropped.
#[derive(Debug)]
pub struct Mapping {
    map: Option<MmapMut>,
    reuse: bool,
}

impl Mapping {
    fn new(map: MmapMut, reuse: bool) -> Self {
        Self {
            map: Some(map),
            reuse,
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if let (true, Some(map)) = (self.reuse, self.map.take()) {
            pool_put(map);
        }
    }
}

impl Deref for Mapping {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

impl DerefMut for Mapping {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.map.as_deref_mut().unwrap_or(&mut [])
    }
}

impl AsRef<[u8]> for Mapping {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// A byte buffer of a fixed length.
#[derive(Debug)]
pub enum BigBuf {
    /// An anonymous mapping (possibly longer than `len`, rounded to huge pages).
    Map { map: Mapping, len: usize },
    /// Small buffers, and the fallback when a mapping cannot be made.
    Heap(Vec<u8>),
}

impl BigBuf {
    /// `len` zero bytes; large buffers are mapped and advised for huge pages.
    pub fn zeroed(len: usize) -> Self {
        Self::mapped(len, false)
    }

    /// `len` bytes that the caller will overwrite completely: zeros, or (for large buffers)
    /// the old contents of a pooled mapping of the same size (see the module docs).
    pub fn for_overwrite(len: usize) -> Self {
        Self::mapped(len, true)
    }

    /// [`Self::for_overwrite`] without the huge-page advice: a new mapping faults in 4 KiB
    /// pages as heap memory does (cheaper on first touch where the kernel compacts memory
    /// for huge pages), and still goes back to the pool for reuse.
    pub fn for_overwrite_small_pages(len: usize) -> Self {
        Self::mapped_with(len, true, false)
    }

    fn mapped(len: usize, reuse: bool) -> Self {
        Self::mapped_with(len, reuse, true)
    }

    fn mapped_with(len: usize, reuse: bool, huge: bool) -> Self {
        if len < HUGE / 2 {
            return Self::Heap(vec![0u8; len]);
        }
        let mapped_len = len.div_ceil(HUGE) * HUGE;
        if reuse {
            if let Some(map) = pool_take(mapped_len) {
                return Self::Map {
                    map: Mapping::new(map, true),
                    len,
                };
            }
        }
        match MmapMut::map_anon(mapped_len) {
            Ok(map) => {
                #[cfg(target_os = "linux")]
                if huge {
                    // Advice only: on failure (THP disabled) the pages are just 4 KiB ones.
                    let _ = map.advise(memmap2::Advice::HugePage);
                }
                let _ = huge;
                Self::Map {
                    map: Mapping::new(map, reuse),
                    len,
                }
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

/// A column of plain numbers (zero-filled, or for [`NumCol::for_overwrite`] possibly a reused
/// mapping's old values): a huge-page mapping cast to `[T]` (page-aligned,
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
        Self::typed(BigBuf::zeroed(n * std::mem::size_of::<T>()), n)
    }

    /// `n` values that the caller will overwrite completely: zeros or the old contents of a
    /// reused mapping ([`BigBuf::for_overwrite`]).
    #[must_use]
    pub fn for_overwrite(n: usize) -> Self {
        Self::typed(BigBuf::for_overwrite(n * std::mem::size_of::<T>()), n)
    }

    /// [`Self::for_overwrite`] in 4 KiB pages ([`BigBuf::for_overwrite_small_pages`]).
    #[must_use]
    pub fn for_overwrite_small_pages(n: usize) -> Self {
        Self::typed(
            BigBuf::for_overwrite_small_pages(n * std::mem::size_of::<T>()),
            n,
        )
    }

    fn typed(buf: BigBuf, n: usize) -> Self {
        let bytes = n * std::mem::size_of::<T>();
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
    fn zeroed_never_comes_from_the_pool() {
        // A length no other test uses.
        let len = 37 * HUGE - 5;
        let mut a = BigBuf::for_overwrite(len);
        assert!(a.is_mapped());
        a[len - 1] = 42;
        drop(a);
        let z = BigBuf::zeroed(len);
        assert!(
            z.iter().all(|&x| x == 0),
            "zeroed must not come from the pool"
        );
        let b = BigBuf::for_overwrite(len);
        assert_eq!(b.len(), len); // zeros, or the dropped mapping's bytes if the pool took it
        let c = NumCol::<f64>::for_overwrite(len / 8);
        assert_eq!(c.len(), len / 8);
    }

    /// A mapping whose first byte is `mark` (the rest untouched).
    fn mapping(len: usize, mark: u8) -> MmapMut {
        let mut m = MmapMut::map_anon(len).unwrap_or_else(|_| unreachable!("map_anon"));
        m[0] = mark;
        m
    }

    #[test]
    fn the_pool_reuses_by_size_caps_and_ages_out() {
        let now = Instant::now();
        let mut p = Pool::default();
        p.own();
        assert!(p.put(mapping(HUGE, 1), now).is_empty());
        assert!(p.put(mapping(2 * HUGE, 2), now).is_empty());
        assert!(p.take(3 * HUGE).is_none(), "only exact sizes are reused");
        let m = p.take(2 * HUGE).map(|m| m[0]);
        assert_eq!(m, Some(2), "the 2-huge-page mapping, with its old contents");
        assert_eq!(p.bytes, HUGE);
        // beyond the cap the oldest go first (the big mapping is reserved, not touched)
        assert!(p.put(mapping(POOL_CAP - HUGE, 3), now).is_empty());
        let out = p.put(mapping(HUGE, 4), now);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0][0], 1, "the oldest was evicted");
        assert_eq!(p.bytes, POOL_CAP);
        // ageing: gone after POOL_KEEP
        assert_eq!(p.expire(now).len(), 0);
        assert_eq!(p.expire(now + POOL_KEEP).len(), 2);
        assert_eq!((p.maps.len(), p.bytes), (0, 0));
    }

    #[test]
    fn a_forked_child_forgets_the_parents_pool() {
        let mut p = Pool::default();
        p.own();
        assert!(p.put(mapping(HUGE, 5), Instant::now()).is_empty());
        p.pid = p.pid.wrapping_add(1); // as seen from a child process
        p.trimmer = true;
        p.own();
        assert_eq!((p.maps.len(), p.bytes, p.trimmer), (0, 0, false));
        assert_eq!(p.pid, std::process::id());
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
