//! Readers: raw 80-byte header files, Bitcoin Core `blk*.dat` files (with the `xor.dat`
//! obfuscation key), and hex text. Each returns consecutive raw headers (`80·n` bytes).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::buf::BigBuf;
use super::header::{block_hash, decode_hex_into, header_at, Hash32, Header, HEADER_LEN};
use crate::consensus::target::{bits_proof, U256};
use crate::error::{CoreError, CoreResult, Position};

fn fmt_err(source: &str, at: Position, why: String) -> CoreError {
    CoreError::Format {
        source_name: source.to_string(),
        at,
        why,
    }
}

fn io_err(source: &str, e: &std::io::Error) -> CoreError {
    fmt_err(
        source,
        Position::Scalar,
        format!("cannot be read ({e}); check the path and permissions"),
    )
}

/// Check that `data` is a whole number of 80-byte headers.
pub fn check_raw(source: &str, data: &[u8]) -> CoreResult<()> {
    let rem = data.len() % HEADER_LEN;
    if rem != 0 {
        let last = (data.len() - rem) as u64;
        return Err(fmt_err(
            source,
            Position::Offset(last),
            format!(
                "truncated: {} bytes is not a whole number of 80-byte headers; the header starting at byte {last} (index {}) has only {rem} bytes. Pass complete headers (the file may have been cut short)",
                data.len(),
                last / HEADER_LEN as u64
            ),
        ));
    }
    Ok(())
}

/// Read a file of consecutive 80-byte headers (into a huge-page buffer, see [`BigBuf`]).
pub fn read_raw_file(path: &Path) -> CoreResult<BigBuf> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|e| io_err(&name, &e))?;
    let len = f.metadata().map_err(|e| io_err(&name, &e))?.len();
    let len = usize::try_from(len).map_err(|_| {
        fmt_err(
            &name,
            Position::Scalar,
            format!("{len} bytes do not fit in memory on this platform"),
        )
    })?;
    let mut data = BigBuf::zeroed(len);
    f.read_exact(&mut data).map_err(|e| io_err(&name, &e))?;
    // A file that grew while being read: read it again whole (rare; keeps the result exact).
    if f.read(&mut [0u8; 1]).map_err(|e| io_err(&name, &e))? != 0 {
        let v = std::fs::read(path).map_err(|e| io_err(&name, &e))?;
        data = BigBuf::from(v);
    }
    check_raw(&name, &data)?;
    Ok(data)
}

/// Network magic bytes as they appear on disk (`pchMessageStart`).
pub fn network_magic(network: &str) -> Option<[u8; 4]> {
    match network {
        "mainnet" => Some([0xf9, 0xbe, 0xb4, 0xd9]),
        "testnet3" => Some([0x0b, 0x11, 0x09, 0x07]),
        "testnet4" => Some([0x1c, 0x16, 0x3f, 0x28]),
        "signet" => Some([0x0a, 0x03, 0xcf, 0x40]),
        "regtest" => Some([0xfa, 0xbf, 0xb5, 0xda]),
        _ => None,
    }
}

fn magic_name(m: [u8; 4]) -> Option<&'static str> {
    ["mainnet", "testnet3", "testnet4", "signet", "regtest"]
        .into_iter()
        .find(|n| network_magic(n) == Some(m))
}

fn xor_at(buf: &mut [u8], key: &[u8], pos: u64) {
    if key.is_empty() || key.iter().all(|&k| k == 0) {
        return;
    }
    let k = key.len() as u64;
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[((pos + i as u64) % k) as usize];
    }
}

/// Read the block headers of one Core `blk*.dat` file, in file order, skipping the
/// transactions (only 80 bytes per block are kept). `xor_key` is the content of `xor.dat`
/// (Core ≥ 28 obfuscates block files with it; empty or all zero means none). Reading stops
/// at the zero padding Core pre-allocates at the end of a file.
pub fn read_blk_file(path: &Path, magic: [u8; 4], xor_key: &[u8]) -> CoreResult<Vec<u8>> {
    let name = path.display().to_string();
    let f = File::open(path).map_err(|e| io_err(&name, &e))?;
    let len = f.metadata().map_err(|e| io_err(&name, &e))?.len();
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut out = Vec::new();
    let mut pos: u64 = 0;
    while pos + 8 <= len {
        let mut pre = [0u8; 8];
        r.read_exact(&mut pre).map_err(|e| io_err(&name, &e))?;
        // Core pre-allocates a file's tail with plain zeros on disk (fallocate, or zero
        // writes that bypass the obfuscation): test the bytes as read, before removing the
        // key — and after, for a copy whose tail was obfuscated with the rest.
        if pre[..4] == [0, 0, 0, 0] {
            break; // pre-allocated zero tail
        }
        xor_at(&mut pre, xor_key, pos);
        let m = [pre[0], pre[1], pre[2], pre[3]];
        if m == [0, 0, 0, 0] {
            break;
        }
        if m != magic {
            let hint = match magic_name(m) {
                Some(n) => format!("; these are {n} blocks, pass network=\"{n}\""),
                None if xor_key.is_empty() => {
                    "; if the file comes from Bitcoin Core 28 or later, pass its xor.dat key (xor_key=...)".to_string()
                }
                None => "; the file is not a Core block file, or the xor key is wrong".to_string(),
            };
            return Err(fmt_err(
                &name,
                Position::Offset(pos),
                format!(
                    "wrong magic {:02x}{:02x}{:02x}{:02x}, expected {:02x}{:02x}{:02x}{:02x}{hint}",
                    m[0], m[1], m[2], m[3], magic[0], magic[1], magic[2], magic[3]
                ),
            ));
        }
        let size = u64::from(u32::from_le_bytes([pre[4], pre[5], pre[6], pre[7]]));
        if size < HEADER_LEN as u64 || pos + 8 + size > len {
            return Err(fmt_err(
                &name,
                Position::Offset(pos),
                format!(
                    "block record of {size} bytes at byte {pos} does not fit: the file has {len} bytes (truncated or corrupt block file)"
                ),
            ));
        }
        let mut h = [0u8; HEADER_LEN];
        r.read_exact(&mut h).map_err(|e| io_err(&name, &e))?;
        xor_at(&mut h, xor_key, pos + 8);
        out.extend_from_slice(&h);
        let skip = size - HEADER_LEN as u64;
        r.seek_relative(skip as i64)
            .map_err(|e| io_err(&name, &e))?;
        pos += 8 + size;
    }
    Ok(out)
}

/// Parse hex text holding one or more concatenated headers (whitespace ignored).
pub fn parse_hex_text(source: &str, text: &str) -> CoreResult<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let digits = digits
        .strip_prefix(b"0x")
        .map(<[u8]>::to_vec)
        .unwrap_or(digits);
    if !digits.len().is_multiple_of(2 * HEADER_LEN) {
        return Err(fmt_err(
            source,
            Position::Scalar,
            format!(
                "{} hex digits is not a whole number of 80-byte headers (160 digits each)",
                digits.len()
            ),
        ));
    }
    let mut out = vec![0u8; digits.len() / 2];
    for (i, (d, o)) in digits
        .chunks_exact(2 * HEADER_LEN)
        .zip(out.chunks_exact_mut(HEADER_LEN))
        .enumerate()
    {
        decode_hex_into(d, o).ok_or_else(|| {
            fmt_err(
                source,
                Position::Row(i),
                "is not hexadecimal (digits 0-9, a-f only)".into(),
            )
        })?;
    }
    Ok(out)
}

/// Headers given one per element (hex text or 80 raw bytes each); `None` elements are errors.
pub fn join_elements<'a>(
    source: &str,
    items: impl Iterator<Item = Option<&'a [u8]>>,
    is_hex: bool,
) -> CoreResult<Vec<u8>> {
    let mut out = Vec::new();
    for (row, it) in items.enumerate() {
        let Some(b) = it else {
            return Err(fmt_err(
                source,
                Position::Row(row),
                "is null; drop null rows before reading headers".into(),
            ));
        };
        if is_hex {
            let t: Vec<u8> = b
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let mut h = [0u8; HEADER_LEN];
            if t.len() != 2 * HEADER_LEN || decode_hex_into(&t, &mut h).is_none() {
                return Err(fmt_err(
                    source,
                    Position::Row(row),
                    format!(
                        "is not a header in hex: expected 160 hex digits, got {} characters",
                        t.len()
                    ),
                ));
            }
            out.extend_from_slice(&h);
        } else {
            if b.len() != HEADER_LEN {
                return Err(fmt_err(
                    source,
                    Position::Row(row),
                    format!("has {} bytes; a header has exactly 80", b.len()),
                ));
            }
            out.extend_from_slice(b);
        }
    }
    Ok(out)
}

/// Put headers read in arbitrary order (as in `blk*.dat`, where blocks are stored as they
/// arrive) into chain order: the most-work chain from the root, following `prev` links.
///
/// Returns the ordered raw headers and whether the root is a genesis block (previous hash
/// all zero). Headers off the best chain (stale forks) and orphans are dropped.
pub fn order_chain(source: &str, data: &[u8]) -> CoreResult<(Vec<u8>, bool)> {
    let n = data.len() / HEADER_LEN;
    if n == 0 {
        return Ok((Vec::new(), false));
    }
    let hashes: Vec<Hash32> = (0..n).map(|i| block_hash(header_at(data, i))).collect();
    let mut index: HashMap<Hash32, usize> = HashMap::with_capacity(n);
    for (i, h) in hashes.iter().enumerate() {
        index.entry(*h).or_insert(i);
    }
    let prev_of = |i: usize| Header::parse(header_at(data, i)).prev;
    let roots: Vec<usize> = (0..n)
        .filter(|&i| !index.contains_key(&prev_of(i)))
        .collect();
    let genesis_roots: Vec<usize> = roots
        .iter()
        .copied()
        .filter(|&i| prev_of(i) == [0u8; 32])
        .collect();
    let root = match (genesis_roots.as_slice(), roots.as_slice()) {
        ([g], _) => *g,
        (_, [r]) => *r,
        _ => {
            return Err(fmt_err(
                source,
                Position::Scalar,
                format!(
                    "the {n} blocks form {} disconnected runs and none is a unique genesis; pass block files that cover one continuous chain",
                    roots.len()
                ),
            ))
        }
    };
    // Cumulative work from the root, computed iteratively (parents may come after children).
    let mut work: Vec<Option<U256>> = vec![None; n];
    work[root] = Some(bits_proof(Header::parse(header_at(data, root)).bits));
    let mut done = vec![false; n];
    let mut stack = Vec::new();
    for start in 0..n {
        let mut i = start;
        while work[i].is_none() && !done[i] {
            stack.push(i);
            match index.get(&prev_of(i)) {
                Some(&p) if p != i => i = p,
                _ => break,
            }
        }
        let mut base = work[i];
        while let Some(j) = stack.pop() {
            // Orphans (not connected to the chosen root) keep `None`.
            base = base.map(|w| w + bits_proof(Header::parse(header_at(data, j)).bits));
            work[j] = base;
            done[j] = true;
        }
    }
    let tip = (0..n)
        .filter_map(|i| work[i].map(|w| (w, std::cmp::Reverse(i))))
        .max()
        .map(|(_, std::cmp::Reverse(i))| i)
        .unwrap_or(root);
    let mut order = vec![tip];
    let mut cur = tip;
    while cur != root {
        match index.get(&prev_of(cur)) {
            Some(&p) => {
                order.push(p);
                cur = p;
            }
            None => break,
        }
    }
    order.reverse();
    let mut out = Vec::with_capacity(order.len() * HEADER_LEN);
    for i in order {
        out.extend_from_slice(header_at(data, i));
    }
    Ok((out, prev_of(root) == [0u8; 32]))
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn truncated_names_offset() {
        let e = check_raw("x.bin", &[0u8; 170]).err();
        match e {
            Some(CoreError::Format { at, why, .. }) => {
                assert_eq!(at, Position::Offset(160));
                assert!(why.contains("only 10 bytes"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert!(check_raw("x", &[0u8; 160]).is_ok());
    }

    #[test]
    fn hex_text() {
        let t = "00".repeat(80) + "\n" + &"ff".repeat(80);
        let v = parse_hex_text("s", &t).ok().unwrap_or_default();
        assert_eq!(v.len(), 160);
        assert_eq!(v[80], 0xff);
        assert!(parse_hex_text("s", &"0".repeat(159)).is_err());
        assert!(parse_hex_text("s", &"g".repeat(160)).is_err());
    }

    #[test]
    fn order_chain_sorts_and_drops_stale() {
        let mut p = crate::consensus::params::NetworkParams::regtest();
        p.genesis_hash = String::new();
        let data = crate::chain::synth::synthetic_chain(50, &p, 1).unwrap_or_default();
        let mut shuffled: Vec<&[u8]> = data.chunks_exact(HEADER_LEN).collect();
        shuffled.reverse();
        let mut stale = shuffled[10].to_vec();
        stale[40] ^= 0xff; // same parent, another block
        let mut flat: Vec<u8> = shuffled.concat();
        flat.extend_from_slice(&stale);
        let (ordered, genesis) = order_chain("t", &flat).unwrap_or_default();
        assert!(genesis);
        assert_eq!(ordered, data);
    }

    /// Core ≥ 28 obfuscates what it writes, but the pre-allocated tail of the newest file is
    /// plain zeros on disk: reading stops there with the key given, as without one.
    #[test]
    fn obfuscated_file_with_a_plain_zero_tail() {
        let magic = [0xf9, 0xbe, 0xb4, 0xd9];
        let key = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut plain = Vec::new();
        for i in 0..3u8 {
            plain.extend_from_slice(&magic);
            plain.extend_from_slice(&81u32.to_le_bytes());
            plain.extend_from_slice(&[i; 80]);
            plain.push(0xaa); // one byte of "transactions"
        }
        let mut disk = plain.clone();
        xor_at(&mut disk, &key, 0);
        disk.extend_from_slice(&[0u8; 4096]);
        let path = std::env::temp_dir().join(format!("hp-blk-{}.dat", std::process::id()));
        assert!(std::fs::write(&path, &disk).is_ok());
        let got = read_blk_file(&path, magic, &key);
        let _ = std::fs::remove_file(&path);
        let got = got.unwrap_or_default();
        assert_eq!(got.len(), 3 * 80);
        assert_eq!(got[80..160], [1u8; 80]);
    }

    #[test]
    fn xor_is_positional() {
        let key = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut b = [0u8; 4];
        xor_at(&mut b, &key, 6);
        assert_eq!(b, [7, 8, 1, 2]);
    }
}
