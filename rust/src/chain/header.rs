//! The 80-byte block header: parse, serialise, double-SHA256, display hex.
//!
//! Hashing uses the `sha2` crate's raw compression function, which picks the CPU's SHA
//! extensions (x86 SHA-NI, ARMv8 SHA2) at run time through `cpufeatures` and falls back to
//! portable code elsewhere. An 80-byte header costs three compressions: two for the first
//! SHA-256 (80 bytes + padding = 128 bytes) and one for the second (32 bytes + padding).

use sha2::digest::generic_array::GenericArray;

/// Bytes in a consensus-serialised block header.
pub const HEADER_LEN: usize = 80;

/// A 32-byte hash in internal (little-endian, "wire") byte order.
pub type Hash32 = [u8; 32];

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The fields of a block header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: i32,
    /// Previous block hash, internal byte order.
    pub prev: Hash32,
    /// Merkle root, internal byte order.
    pub merkle: Hash32,
    pub time: u32,
    pub bits: u32,
    pub nonce: u32,
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn h32(b: &[u8], at: usize) -> Hash32 {
    let mut a = [0u8; 32];
    a.copy_from_slice(&b[at..at + 32]);
    a
}

impl Header {
    /// Parse the first 80 bytes of `raw` (callers pass exactly one header).
    pub fn parse(raw: &[u8; HEADER_LEN]) -> Self {
        Self {
            version: le_u32(raw, 0) as i32,
            prev: h32(raw, 4),
            merkle: h32(raw, 36),
            time: le_u32(raw, 68),
            bits: le_u32(raw, 72),
            nonce: le_u32(raw, 76),
        }
    }

    /// Consensus serialisation (little-endian integers, hashes in internal order).
    pub fn serialize(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev);
        out[36..68].copy_from_slice(&self.merkle);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }
}

/// View the `i`-th header of a buffer of consecutive headers.
pub fn header_at(data: &[u8], i: usize) -> &[u8; HEADER_LEN] {
    let s = &data[i * HEADER_LEN..(i + 1) * HEADER_LEN];
    // The slice has exactly HEADER_LEN bytes, so the conversion cannot fail.
    <&[u8; HEADER_LEN]>::try_from(s).unwrap_or(&[0u8; HEADER_LEN])
}

/// The SHA-256 state after the first 64 bytes of a header (constant while a miner grinds
/// the nonce).
#[derive(Debug, Clone, Copy)]
pub struct Midstate([u32; 8]);

impl Midstate {
    pub fn of(raw: &[u8; HEADER_LEN]) -> Self {
        let mut st = SHA256_IV;
        sha2::compress256(&mut st, &[*GenericArray::from_slice(&raw[..64])]);
        Self(st)
    }

    /// Finish the double-SHA256 given the header's last 16 bytes (merkle tail, time, bits, nonce).
    pub fn finish(&self, tail: &[u8]) -> Hash32 {
        let mut st = self.0;
        let mut block = [0u8; 64];
        block[..16].copy_from_slice(&tail[..16]);
        block[16] = 0x80;
        block[56..].copy_from_slice(&(640u64).to_be_bytes());
        sha2::compress256(&mut st, &[*GenericArray::from_slice(&block)]);
        second_hash(&st)
    }
}

fn second_hash(first: &[u32; 8]) -> Hash32 {
    let mut block = [0u8; 64];
    for (i, w) in first.iter().enumerate() {
        block[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
    }
    block[32] = 0x80;
    block[56..].copy_from_slice(&(256u64).to_be_bytes());
    let mut st = SHA256_IV;
    sha2::compress256(&mut st, &[*GenericArray::from_slice(&block)]);
    let mut out = [0u8; 32];
    for (i, w) in st.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Double-SHA256 of an 80-byte header: the block hash in internal byte order.
pub fn block_hash(raw: &[u8; HEADER_LEN]) -> Hash32 {
    Midstate::of(raw).finish(&raw[64..])
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Two hex digits per byte value.
static HEX2: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

/// Write `h` as 64 lowercase hex digits in display (big-endian, reversed) order.
pub fn write_display_hex(h: &Hash32, out: &mut [u8]) {
    for (o, b) in out[..64].chunks_exact_mut(2).zip(h.iter().rev()) {
        o.copy_from_slice(&HEX2[*b as usize]);
    }
}

/// `h` as display hex (big-endian), the form explorers and Core's RPC print.
pub fn display_hex(h: &Hash32) -> String {
    let mut out = [0u8; 64];
    write_display_hex(h, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Write 32 big-endian bytes as 64 lowercase hex digits.
pub fn write_be_hex(be: &[u8; 32], out: &mut [u8]) {
    for (o, b) in out[..64].chunks_exact_mut(2).zip(be.iter()) {
        o.copy_from_slice(&HEX2[*b as usize]);
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decode hex digits into bytes (`out.len() * 2` digits expected).
pub fn decode_hex_into(s: &[u8], out: &mut [u8]) -> Option<()> {
    if s.len() != out.len() * 2 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(s[2 * i])? << 4) | nibble(s[2 * i + 1])?;
    }
    Some(())
}

/// Parse a 64-digit display-hex hash into internal byte order.
pub fn parse_display_hex(s: &[u8]) -> Option<Hash32> {
    let mut h = [0u8; 32];
    decode_hex_into(s, &mut h)?;
    h.reverse();
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    pub const GENESIS_HEX: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    pub fn genesis() -> [u8; 80] {
        let mut raw = [0u8; 80];
        assert!(decode_hex_into(GENESIS_HEX.as_bytes(), &mut raw).is_some());
        raw
    }

    #[test]
    fn genesis_hash_and_fields() {
        let raw = genesis();
        let h = block_hash(&raw);
        assert_eq!(
            display_hex(&h),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        let hd = Header::parse(&raw);
        assert_eq!(hd.version, 1);
        assert_eq!(hd.time, 1231006505);
        assert_eq!(hd.bits, 0x1d00ffff);
        assert_eq!(hd.nonce, 2083236893);
        assert_eq!(
            display_hex(&hd.merkle),
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
        );
        assert_eq!(hd.serialize(), raw);
        assert_eq!(
            parse_display_hex(display_hex(&h).as_bytes()),
            Some(h),
            "round trip"
        );
    }

    #[test]
    fn compress_path_matches_digest() {
        let mut raw = genesis();
        for n in 0..200u32 {
            raw[76..80].copy_from_slice(&n.to_le_bytes());
            raw[5] = n as u8;
            let d1 = Sha256::digest(raw);
            let d2: [u8; 32] = Sha256::digest(d1).into();
            assert_eq!(block_hash(&raw), d2);
        }
    }

    #[test]
    fn hex_rejects_garbage() {
        assert!(parse_display_hex(b"zz").is_none());
        let mut s = [b'0'; 64];
        s[3] = b'g';
        assert!(parse_display_hex(&s).is_none());
    }
}
