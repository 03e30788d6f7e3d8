//! Block-header chains: parse and hash headers, read them from raw files, Bitcoin Core
//! `blk*.dat` files and hex, build the per-block columns and validate them exactly as
//! Bitcoin Core's header checks do.
//!
//! * [`buf`]: huge-page byte buffers for the frame's large columns;
//! * [`header`]: the 80-byte header, double-SHA256 (SHA-NI at run time via `sha2`), hex;
//! * [`read`]: raw files, `blk*.dat` with network magic and `xor.dat`, hex text, chain order;
//! * [`validate`]: columns + rules (linkage, proof of work, required bits, MTP, BIP94) with
//!   context for runs that start mid-chain;
//! * [`synth`]: synthetic chains mined under easy parameters.

pub mod buf;
pub mod header;
pub mod read;
pub mod synth;
pub mod validate;

pub use buf::BigBuf;
pub use header::{block_hash, Hash32, Header, HEADER_LEN};
pub use validate::{build, ChainColumns, Check, Context, ContextRow, Rule};
