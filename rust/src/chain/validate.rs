//! Build the per-block columns of a header run and check it against Bitcoin Core's header
//! rules: linkage, proof of work, required bits at every height, median time past, BIP94.
//!
//! Work is split in two passes:
//! 1. parallel (rayon) over rows: parse, double-SHA256, proof of work, hex of the hashes,
//!    median time past;
//! 2. sequential and cheap: linkage, required bits (`next_work_required` on a [`ChainView`]
//!    that sees the run plus its context), timestamps, cumulative chainwork.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::buf::{BigBuf, NumCol};
use super::header::{
    block_hash, header_at, parse_display_hex, write_be_hex, write_display_hex, Hash32, Header,
    HEADER_LEN,
};
use crate::consensus::params::NetworkParams;
use crate::consensus::retarget::{bip94_timewarp_ok, next_work_required, ChainView};
use crate::consensus::target::{
    bits_proof, bits_to_difficulty, derive_target, u256_getdouble, u256_hex, U256,
};
use crate::error::{CoreError, CoreResult, Position};

/// A trusted header before (or overlapping) the run: what a checkpoint provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRow {
    pub height: i64,
    pub time: i64,
    pub bits: u32,
    /// Block hash, internal byte order.
    pub hash: Option<Hash32>,
    /// Cumulative chainwork through this block.
    pub chainwork: Option<U256>,
}

/// Trusted headers by height (sparse: an epoch's first header is enough for most rules).
#[derive(Debug, Clone, Default)]
pub struct Context {
    rows: BTreeMap<i64, ContextRow>,
}

impl Context {
    pub fn new(rows: impl IntoIterator<Item = ContextRow>) -> Self {
        Self {
            rows: rows.into_iter().map(|r| (r.height, r)).collect(),
        }
    }
    pub fn get(&self, height: i64) -> Option<&ContextRow> {
        self.rows.get(&height)
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn rows(&self) -> impl Iterator<Item = &ContextRow> {
        self.rows.values()
    }
}

/// The run and its context seen as one chain.
struct View<'a> {
    start: i64,
    times: &'a [i64],
    bits: &'a [u32],
    ctx: &'a Context,
}

impl View<'_> {
    fn idx(&self, h: i64) -> Option<usize> {
        if h < self.start {
            return None;
        }
        let i = usize::try_from(h - self.start).ok()?;
        (i < self.times.len()).then_some(i)
    }
}

impl ChainView for View<'_> {
    fn bits_at(&self, h: i64) -> Option<u32> {
        match self.idx(h) {
            Some(i) => Some(self.bits[i]),
            None => self.ctx.get(h).map(|r| r.bits),
        }
    }
    fn time_at(&self, h: i64) -> Option<i64> {
        match self.idx(h) {
            Some(i) => Some(self.times[i]),
            None => self.ctx.get(h).map(|r| r.time),
        }
    }
}

/// The outcome of the checks on one header, in Core's reject-reason vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Rule {
    Ok = 0,
    /// A frame row whose `hash` is not the hash of its fields.
    HashMismatch,
    /// A header whose hash differs from a checkpoint at the same height.
    CheckpointMismatch,
    /// Height 0 that is not the network's genesis block.
    BadGenesis,
    /// `prev_hash` is not the hash of the previous header.
    BadPrevblk,
    /// Proof of work fails (hash above target, or unusable bits).
    HighHash,
    /// Bits differ from `GetNextWorkRequired`.
    BadDiffbits,
    /// Time not after the median time past of the previous 11 blocks.
    TimeTooOld,
    /// BIP94: a period's first block more than 600 s before its parent.
    TimeTimewarp,
}

impl Rule {
    /// The name used in errors and in the `status` column.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Ok => "ok",
            Rule::HashMismatch => "hash-mismatch",
            Rule::CheckpointMismatch => "checkpoint-mismatch",
            Rule::BadGenesis => "bad-genesis",
            Rule::BadPrevblk => "bad-prevblk",
            Rule::HighHash => "high-hash",
            Rule::BadDiffbits => "bad-diffbits",
            Rule::TimeTooOld => "time-too-old",
            Rule::TimeTimewarp => "time-timewarp-attack",
        }
    }
}

/// What to do with a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Only build the columns.
    None,
    /// Check every rule; the first failing height is returned as `RuleViolation`.
    Raise,
    /// Check every rule; per-row status columns instead of an error.
    Report,
}

/// Per-row validation result (report mode).
#[derive(Debug, Clone)]
pub struct Statuses {
    pub rule: Vec<Rule>,
    pub detail: Vec<Option<String>>,
    /// Whether every rule could be checked (false where context before the run is missing).
    pub full_context: Vec<bool>,
}

/// The columns of a header run (the chain frame of `hashpivot.chain`).
#[derive(Debug, Clone)]
pub struct ChainColumns {
    pub start_height: i64,
    pub interval: i64,
    // Written whole by the first pass, so they come from the buffer pool
    // (`for_overwrite_small_pages`): a repeated validation reuses the memory instead of
    // faulting in fresh pages (4 KiB pages: cheaper on first touch here than huge ones).
    pub hashes: NumCol<Hash32>,
    pub version: NumCol<i32>,
    pub time: NumCol<i64>,
    pub bits: NumCol<u32>,
    pub nonce: NumCol<u32>,
    /// 64 hex digits per row, display order.
    pub hash_hex: BigBuf,
    pub prev_hex: BigBuf,
    pub merkle_hex: BigBuf,
    pub difficulty: Vec<Option<f64>>,
    /// 64 hex digits per row (Core's RPC form), `None` when no anchor is known.
    pub chainwork_hex: Option<BigBuf>,
    pub chainwork_f64: Option<NumCol<f64>>,
    /// Cumulative chainwork through the last row, when known.
    pub last_chainwork: Option<U256>,
    /// Median time past of each block (its own time and up to 10 ancestors), `None` where
    /// ancestors before the run are unknown.
    pub mtp: Vec<Option<i64>>,
    pub status: Option<Statuses>,
}

impl ChainColumns {
    pub fn len(&self) -> usize {
        self.time.len()
    }
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// The context the next consecutive run needs: the last `interval + 11` rows (enough
    /// for a retarget, the testnet walk-back and the median time past), with hashes and the
    /// chainwork of the last row.
    pub fn tail_context(&self, previous: &Context) -> Context {
        let n = self.len();
        let keep = (self.interval.max(0) as usize + 11).min(n);
        let end = self.start_height + n as i64;
        let lo = end - (self.interval + 11);
        let mut rows: Vec<ContextRow> = previous
            .rows()
            // Older rows the next run may still need, and checkpoints beyond this run.
            .filter(|r| (r.height >= lo && r.height < self.start_height) || r.height >= end)
            .cloned()
            .collect();
        for i in n - keep..n {
            rows.push(ContextRow {
                height: self.start_height + i as i64,
                time: self.time[i],
                bits: self.bits[i],
                hash: Some(self.hashes[i]),
                chainwork: if i + 1 == n {
                    self.last_chainwork
                } else {
                    None
                },
            });
        }
        Context::new(rows)
    }
}

const BLOCK: usize = 2048;

/// Difficulty and work of the last bits seen (bits change once per period).
#[derive(Default)]
struct WorkCache(Option<(u32, Option<f64>, U256)>);

impl WorkCache {
    fn get(&mut self, b: u32) -> (Option<f64>, U256) {
        match self.0 {
            Some((cb, d, w)) if cb == b => (d, w),
            _ => {
                let d = bits_to_difficulty(b).ok();
                let w = bits_proof(b);
                self.0 = Some((b, d, w));
                (d, w)
            }
        }
    }
}

/// Chainwork through `start_height − 1` from a context row with chainwork earlier in the
/// same difficulty period, on networks without min-difficulty blocks (mainnet, signet): there
/// every block of a period has the period's bits, so the blocks between the row and the run
/// add `work(bits)` each. This lets a run (or a stream of chunks) that starts inside a
/// checkpointed period have chainwork from its first row, as a run from the period's first
/// header has. `None` when no such row exists.
fn period_anchor(
    ctx: &Context,
    start_height: i64,
    params: &NetworkParams,
) -> CoreResult<Option<U256>> {
    let tip = start_height - 1;
    if params.allow_min_difficulty_blocks || tip < 0 {
        return Ok(None);
    }
    let interval = params.interval();
    if interval <= 0 {
        return Ok(None);
    }
    let period = tip.div_euclid(interval);
    let Some(r) = ctx
        .rows()
        .filter(|r| {
            r.chainwork.is_some() && r.height < tip && r.height.div_euclid(interval) == period
        })
        .max_by_key(|r| r.height)
    else {
        return Ok(None);
    };
    let gap = U256::from((tip - r.height) as u64); // 0 < gap < interval
    let cw = r.chainwork.unwrap_or_default();
    let base = bits_proof(r.bits)
        .checked_mul(gap)
        .and_then(|w| cw.checked_add(w))
        .ok_or_else(|| CoreError::Overflow {
            what: "chainwork",
            at: Position::Height(r.height),
            why: format!(
                "chainwork {} plus {gap} blocks of bits {:08x} overflows 256 bits",
                u256_hex(&cw),
                r.bits
            ),
        })?;
    Ok(Some(base))
}

/// The largest block height the chain reader handles (far from i64 overflow).
pub const MAX_HEIGHT: i64 = 1 << 62;

/// Parse, hash and (optionally) validate `data` (consecutive 80-byte headers, the first at
/// `start_height`). `expected_hashes` (from a frame) must equal the computed hashes.
pub fn build(
    data: &[u8],
    start_height: i64,
    params: &NetworkParams,
    ctx: &Context,
    expected_hashes: Option<&[Hash32]>,
    check: Check,
) -> CoreResult<ChainColumns> {
    if !data.len().is_multiple_of(HEADER_LEN) {
        return Err(CoreError::Format {
            source_name: "headers".into(),
            at: Position::Offset((data.len() - data.len() % HEADER_LEN) as u64),
            why: format!(
                "{} bytes is not a whole number of 80-byte headers",
                data.len()
            ),
        });
    }
    if start_height < 0 {
        return Err(CoreError::InvalidValue {
            what: "start_height",
            at: Position::Scalar,
            why: format!("{start_height} is negative; heights start at 0"),
        });
    }
    // Heights (and the ancestors' and successors' heights the rules look at) must stay far
    // from i64 overflow: any real chain is below 2^32.
    let n_headers = (data.len() / HEADER_LEN) as i64;
    if start_height > MAX_HEIGHT - n_headers {
        return Err(CoreError::InvalidValue {
            what: "start_height",
            at: Position::Scalar,
            why: format!(
                "{start_height} + {n_headers} headers passes the largest height handled, 2^62"
            ),
        });
    }
    params.validate()?;
    let n = data.len() / HEADER_LEN;
    if let Some(e) = expected_hashes {
        if e.len() != n {
            return Err(CoreError::InvalidValue {
                what: "hash",
                at: Position::Scalar,
                why: format!("has {} rows for {n} headers", e.len()),
            });
        }
    }
    let interval = params.interval();
    let pow_limit = params.pow_limit;

    // ---- pass 1: parallel per row
    // Every row of these is written below (pooled memory may hold an earlier run's bytes).
    let mut hashes = NumCol::<Hash32>::for_overwrite_small_pages(n);
    let mut version = NumCol::<i32>::for_overwrite_small_pages(n);
    let mut time = NumCol::<i64>::for_overwrite_small_pages(n);
    let mut bits = NumCol::<u32>::for_overwrite_small_pages(n);
    let mut nonce = NumCol::<u32>::for_overwrite_small_pages(n);
    let mut hash_hex = BigBuf::for_overwrite(n * 64);
    let mut prev_hex = BigBuf::for_overwrite(n * 64);
    let mut merkle_hex = BigBuf::for_overwrite(n * 64);
    let mut pow_ok = vec![false; n];
    (
        hashes.par_chunks_mut(BLOCK),
        version.par_chunks_mut(BLOCK),
        time.par_chunks_mut(BLOCK),
        bits.par_chunks_mut(BLOCK),
        nonce.par_chunks_mut(BLOCK),
        hash_hex.par_chunks_mut(BLOCK * 64),
        prev_hex.par_chunks_mut(BLOCK * 64),
        merkle_hex.par_chunks_mut(BLOCK * 64),
        pow_ok.par_chunks_mut(BLOCK),
    )
        .into_par_iter()
        .enumerate()
        .for_each(|(c, (hs, vs, ts, bs, ns, hx, px, mx, po))| {
            let mut cache: Option<(u32, Option<U256>)> = None;
            for j in 0..hs.len() {
                let raw = header_at(data, c * BLOCK + j);
                let h = Header::parse(raw);
                let hash = block_hash(raw);
                hs[j] = hash;
                vs[j] = h.version;
                ts[j] = i64::from(h.time);
                bs[j] = h.bits;
                ns[j] = h.nonce;
                write_display_hex(&hash, &mut hx[j * 64..j * 64 + 64]);
                write_display_hex(&h.prev, &mut px[j * 64..j * 64 + 64]);
                write_display_hex(&h.merkle, &mut mx[j * 64..j * 64 + 64]);
                if check != Check::None {
                    let target = match cache {
                        Some((b, t)) if b == h.bits => t,
                        _ => {
                            let t = derive_target(h.bits, &pow_limit).ok();
                            cache = Some((h.bits, t));
                            t
                        }
                    };
                    po[j] = target.is_some_and(|t| U256::from_le_bytes(hash) <= t);
                }
            }
        });

    let view = View {
        start: start_height,
        times: &time,
        bits: &bits,
        ctx,
    };

    // Median time past of each block (own time + up to 10 ancestors; fewer only near genesis).
    let mtp_of = |h: i64| -> Option<i64> {
        let lo = (h - 10).max(0);
        let mut buf = [0i64; 11];
        let mut k = 0;
        for x in lo..=h {
            buf[k] = view.time_at(x)?;
            k += 1;
        }
        let w = &mut buf[..k];
        w.sort_unstable();
        Some(w[k / 2])
    };
    let times_ref = &time;
    let mtp: Vec<Option<i64>> = (0..n)
        .into_par_iter()
        .with_min_len(BLOCK)
        .map(|i| {
            if i >= 10 {
                // Fast path: the whole window is inside the run.
                let mut buf = [0i64; 11];
                buf.copy_from_slice(&times_ref[i - 10..=i]);
                buf.sort_unstable();
                Some(buf[5])
            } else {
                mtp_of(start_height + i as i64)
            }
        })
        .collect();

    // ---- difficulty and work: per block of rows in parallel, then a prefix over blocks
    let bits_ref = &bits;
    let mut difficulty: Vec<Option<f64>> = vec![None; n];
    let block_sums: Vec<U256> = difficulty
        .par_chunks_mut(BLOCK)
        .enumerate()
        .map(|(c, ds)| {
            let mut cache = WorkCache::default();
            let mut sum = U256::ZERO;
            for (j, d) in ds.iter_mut().enumerate() {
                let (dd, w) = cache.get(bits_ref[c * BLOCK + j]);
                *d = dd;
                sum = sum.wrapping_add(w);
            }
            sum
        })
        .collect();
    let mut prefix = Vec::with_capacity(block_sums.len());
    let mut total = U256::ZERO;
    for s in &block_sums {
        prefix.push(total);
        total = total.wrapping_add(*s);
    }
    // Work of rows 0..=i (inclusive).
    let cum_at = |i: usize| -> U256 {
        let c = i / BLOCK;
        let mut cache = WorkCache::default();
        let mut s = prefix[c];
        for &b in &bits_ref[c * BLOCK..=i] {
            s = s.wrapping_add(cache.get(b).1);
        }
        s
    };
    // Chainwork anchor: absolute from genesis, or a context row with chainwork at a height
    // in [start − 1, end].
    let end = start_height + n as i64 - 1;
    let base: Option<U256> = if start_height == 0 {
        Some(U256::ZERO)
    } else {
        let anchor = ctx
            .rows()
            .find(|r| r.chainwork.is_some() && r.height >= start_height - 1 && r.height <= end);
        match anchor {
            None => period_anchor(ctx, start_height, params)?,
            Some(r) => {
                let cw = r.chainwork.unwrap_or_default();
                let before = if r.height == start_height - 1 {
                    U256::ZERO
                } else {
                    cum_at((r.height - start_height) as usize)
                };
                Some(cw.checked_sub(before).ok_or_else(|| CoreError::InvalidValue {
                    what: "checkpoint",
                    at: Position::Height(r.height),
                    why: format!(
                        "chainwork {} is less than the work of the headers from height {start_height} up to it; the checkpoint is not from this chain",
                        u256_hex(&cw)
                    ),
                })?)
            }
        }
    };
    let (chainwork_hex, chainwork_f64, last_chainwork) = match base {
        None => (None, None, None),
        Some(base) => {
            // every row of both is written below
            let mut hx = BigBuf::for_overwrite(n * 64);
            let mut fl = NumCol::<f64>::for_overwrite_small_pages(n);
            hx.par_chunks_mut(BLOCK * 64)
                .zip(fl.par_chunks_mut(BLOCK))
                .enumerate()
                .for_each(|(c, (o, f))| {
                    let mut cache = WorkCache::default();
                    let mut v = base.wrapping_add(prefix[c]);
                    for j in 0..f.len() {
                        v = v.wrapping_add(cache.get(bits_ref[c * BLOCK + j]).1);
                        write_be_hex(&v.to_be_bytes::<32>(), &mut o[j * 64..j * 64 + 64]);
                        f[j] = u256_getdouble(&v);
                    }
                });
            (Some(hx), Some(fl), Some(base.wrapping_add(total)))
        }
    };

    let mut cols = ChainColumns {
        start_height,
        interval,
        hashes,
        version,
        time,
        bits,
        nonce,
        hash_hex,
        prev_hex,
        merkle_hex,
        difficulty,
        chainwork_hex,
        chainwork_f64,
        last_chainwork,
        mtp,
        status: None,
    };
    if check == Check::None {
        return Ok(cols);
    }
    let st = check_rules(&cols, &pow_ok, data, params, ctx, expected_hashes, check)?;
    if check == Check::Report {
        cols.status = Some(st);
    }
    Ok(cols)
}

#[allow(clippy::too_many_arguments)]
fn check_rules(
    cols: &ChainColumns,
    pow_ok: &[bool],
    data: &[u8],
    params: &NetworkParams,
    ctx: &Context,
    expected: Option<&[Hash32]>,
    check: Check,
) -> CoreResult<Statuses> {
    let n = cols.len();
    let s = cols.start_height;
    let view = View {
        start: s,
        times: &cols.time,
        bits: &cols.bits,
        ctx,
    };
    let genesis_hash = parse_display_hex(params.genesis_hash.as_bytes());
    let report = check == Check::Report;
    let mut rule = Vec::with_capacity(if report { n } else { 0 });
    let mut detail = Vec::with_capacity(if report { n } else { 0 });
    let mut full = Vec::with_capacity(if report { n } else { 0 });
    let hx = |v: &[u8], i: usize| String::from_utf8_lossy(&v[i * 64..i * 64 + 64]).into_owned();
    for i in 0..n {
        let h = s + i as i64;
        let t = cols.time[i];
        let b = cols.bits[i];
        let mut complete = true;
        let mut verdict: Option<(Rule, String)> = None;
        let mut fail = |r: Rule, d: String| {
            if verdict.is_none() {
                verdict = Some((r, d));
            }
        };
        if let Some(e) = expected {
            if e[i] != cols.hashes[i] {
                fail(
                    Rule::HashMismatch,
                    format!(
                        "the frame's hash {} is not the double-SHA256 {} of its fields; the row was edited, re-read the headers from their source",
                        super::header::display_hex(&e[i]),
                        hx(&cols.hash_hex, i)
                    ),
                );
            }
        }
        if let Some(cp) = ctx.get(h).and_then(|r| r.hash) {
            if cp != cols.hashes[i] {
                fail(
                    Rule::CheckpointMismatch,
                    format!(
                        "hash {} differs from the checkpoint's {}; the headers belong to another chain or start_height is wrong",
                        hx(&cols.hash_hex, i),
                        super::header::display_hex(&cp)
                    ),
                );
            }
        }
        if h == 0 {
            if let Some(g) = genesis_hash {
                if g != cols.hashes[i] {
                    fail(
                        Rule::BadGenesis,
                        format!(
                            "hash {} is not the {} genesis block {}; pass the right network",
                            hx(&cols.hash_hex, i),
                            params.name,
                            params.genesis_hash
                        ),
                    );
                }
            }
        } else {
            let want = if i > 0 {
                Some(cols.hashes[i - 1])
            } else {
                ctx.get(h - 1).and_then(|r| r.hash)
            };
            match want {
                Some(w) if w[..] != data[i * HEADER_LEN + 4..i * HEADER_LEN + 36] => fail(
                    Rule::BadPrevblk,
                    format!(
                        "prev_hash {} is not the hash {} of block {}; the headers are not consecutive (a header is missing, repeated or out of order, or start_height is wrong)",
                        hx(&cols.prev_hex, i),
                        super::header::display_hex(&w),
                        h - 1
                    ),
                ),
                Some(_) => {}
                None => complete = false,
            }
        }
        if !pow_ok[i] {
            let why = match derive_target(b, &params.pow_limit) {
                Ok(tg) => format!(
                    "hash {} is above the target {} of bits 0x{b:08x}; the header was altered (nonce, time, merkle root ...) or is not from network {}",
                    hx(&cols.hash_hex, i),
                    u256_hex(&tg),
                    params.name
                ),
                Err(CoreError::InvalidBits { why, .. }) => {
                    format!("bits 0x{b:08x} {why}, so proof of work cannot hold on network {}", params.name)
                }
                Err(e) => e.to_string(),
            };
            fail(Rule::HighHash, why);
        }
        let required = if h == 0 {
            Some(params.genesis_bits)
        } else {
            match next_work_required(&view, h - 1, Some(t), params) {
                Ok(r) => Some(r),
                Err(CoreError::InvalidValue {
                    what: "chain context",
                    ..
                }) => None,
                Err(e) => return Err(e.at(Position::Height(h))),
            }
        };
        match required {
            Some(r) if r != b => {
                let why = if h == 0 {
                    "the genesis bits of the network"
                } else if h % cols.interval == 0 {
                    "retarget at a difficulty-period boundary"
                } else if params.allow_min_difficulty_blocks {
                    "the testnet 20-minute rule and its walk-back"
                } else {
                    "bits are unchanged inside a difficulty period"
                };
                fail(
                    Rule::BadDiffbits,
                    format!("bits 0x{b:08x} differ from the required 0x{r:08x} ({why})"),
                );
            }
            Some(_) => {}
            None => complete = false,
        }
        if h > 0 {
            let prev_mtp = if i > 0 { cols.mtp[i - 1] } else { None }.or_else(|| {
                if i == 0 {
                    // MTP of block h−1 from context only.
                    let lo = (h - 11).max(0);
                    let mut w: Vec<i64> = Vec::with_capacity(11);
                    for x in lo..h {
                        w.push(view.time_at(x)?);
                    }
                    w.sort_unstable();
                    w.get(w.len() / 2).copied()
                } else {
                    None
                }
            });
            match prev_mtp {
                Some(m) if t <= m => fail(
                    Rule::TimeTooOld,
                    format!(
                        "time {t} is not after the median time past {m} of the previous 11 blocks (it must be at least {})",
                        m + 1
                    ),
                ),
                Some(_) => {}
                None => complete = false,
            }
            if params.enforce_bip94 && h % cols.interval == 0 {
                match view.time_at(h - 1) {
                    Some(p) if !bip94_timewarp_ok(params, h, t, p) => fail(
                        Rule::TimeTimewarp,
                        format!(
                            "time {t} is more than 600 s before the previous block's time {p} at a difficulty-period boundary (BIP94; it must be at least {})",
                            p - 600
                        ),
                    ),
                    Some(_) => {}
                    None => complete = false,
                }
            }
        }
        match verdict {
            Some((r, d)) if !report => {
                return Err(CoreError::RuleViolation {
                    rule: r.name(),
                    height: h,
                    detail: d,
                })
            }
            Some((r, d)) => {
                rule.push(r);
                detail.push(Some(d));
                full.push(complete);
            }
            None if report => {
                rule.push(Rule::Ok);
                detail.push(None);
                full.push(complete);
            }
            None => {}
        }
    }
    Ok(Statuses {
        rule,
        detail,
        full_context: full,
    })
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::chain::header::decode_hex_into;

    const GENESIS_HEX: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
    // Block 1 of mainnet.
    const B1_HEX: &str = "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299";

    fn hdrs() -> Vec<u8> {
        let mut v = vec![0u8; 160];
        assert!(decode_hex_into(GENESIS_HEX.as_bytes(), &mut v[..80]).is_some());
        assert!(decode_hex_into(B1_HEX.as_bytes(), &mut v[80..]).is_some());
        v
    }

    #[test]
    fn genesis_and_block1() {
        let m = NetworkParams::mainnet();
        let c = build(&hdrs(), 0, &m, &Context::default(), None, Check::Report);
        let c = c.ok().unwrap_or_else(|| panic!("build failed"));
        let st = c
            .status
            .as_ref()
            .map(|s| s.rule.clone())
            .unwrap_or_default();
        assert_eq!(st, vec![Rule::Ok, Rule::Ok]);
        let cw = c.chainwork_hex.clone().unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&cw[64..128]),
            "0000000000000000000000000000000000000000000000000000000200020002"
        );
        assert_eq!(c.mtp, vec![Some(1231006505), Some(1231469665)]);
        assert_eq!(c.difficulty[0], Some(1.0));
    }

    #[test]
    fn tampered_nonce_and_link() {
        let m = NetworkParams::mainnet();
        let mut v = hdrs();
        v[159] ^= 1;
        match build(&v, 0, &m, &Context::default(), None, Check::Raise) {
            Err(CoreError::RuleViolation { rule, height, .. }) => {
                assert_eq!((rule, height), ("high-hash", 1));
            }
            other => panic!("{other:?}"),
        }
        let v = hdrs();
        // Block 1 alone at height 1 with a context hash that differs: bad-prevblk.
        let ctx = Context::new([ContextRow {
            height: 0,
            time: 1231006505,
            bits: 0x1d00ffff,
            hash: Some([7u8; 32]),
            chainwork: None,
        }]);
        match build(&v[80..], 1, &m, &ctx, None, Check::Raise) {
            Err(CoreError::RuleViolation { rule, height, .. }) => {
                assert_eq!((rule, height), ("bad-prevblk", 1));
            }
            other => panic!("{other:?}"),
        }
        // Without context the same header is valid as far as it can be checked.
        let r = build(&v[80..], 1, &m, &Context::default(), None, Check::Report)
            .ok()
            .and_then(|c| c.status);
        let r = r.unwrap_or_else(|| panic!("no status"));
        assert_eq!(r.rule, vec![Rule::Ok]);
        assert_eq!(r.full_context, vec![false]);
    }
}
