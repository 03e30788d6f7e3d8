//! Network parameters (CONSENSUS.md §1) and custom what-if parameters.

use super::target::{encode, U256};
use crate::error::{CoreError, CoreResult, Position};

/// What the retarget does when `target · span` does not fit in 256 bits (CONSENSUS.md §2).
///
/// It can only happen on custom networks whose proof-of-work limit is above
/// `(2^256 − 1) / (4 · timespan)` (regtest's limit with retargeting turned on, for example).
/// On the five built-in networks the three modes give identical results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OverflowMode {
    /// Refuse with an error (the default for custom parameters).
    Checked,
    /// Compute the product in 512 bits: the rule as intended, never wrapping.
    Wide,
    /// Wrap modulo 2^256 exactly as Core's `arith_uint256` would.
    Wrap,
}

impl OverflowMode {
    /// Parse `"checked" | "wide" | "wrap"`.
    pub fn parse(s: &str) -> CoreResult<Self> {
        match s {
            "checked" => Ok(Self::Checked),
            "wide" => Ok(Self::Wide),
            "wrap" => Ok(Self::Wrap),
            _ => Err(CoreError::InvalidValue {
                what: "overflow",
                at: Position::Scalar,
                why: format!("{s:?} is not one of \"checked\", \"wide\", \"wrap\""),
            }),
        }
    }

    /// The name accepted by [`OverflowMode::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Self::Checked => "checked",
            Self::Wide => "wide",
            Self::Wrap => "wrap",
        }
    }
}

/// The proof-of-work and subsidy parameters of a network (Core's `Consensus::Params`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkParams {
    pub name: String,
    pub pow_limit: U256,
    pub pow_target_timespan: i64,
    pub pow_target_spacing: i64,
    pub allow_min_difficulty_blocks: bool,
    pub no_retargeting: bool,
    pub enforce_bip94: bool,
    pub subsidy_halving_interval: i64,
    pub genesis_time: i64,
    pub genesis_bits: u32,
    /// Genesis hash in display (big-endian) hex.
    pub genesis_hash: String,
    pub overflow: OverflowMode,
}

fn limit_2_224() -> U256 {
    (U256::from(1u8) << 224usize) - U256::from(1u8)
}

impl NetworkParams {
    /// Bitcoin mainnet.
    pub fn mainnet() -> Self {
        Self {
            name: "mainnet".into(),
            pow_limit: limit_2_224(),
            pow_target_timespan: 14 * 24 * 60 * 60,
            pow_target_spacing: 600,
            allow_min_difficulty_blocks: false,
            no_retargeting: false,
            enforce_bip94: false,
            subsidy_halving_interval: 210_000,
            genesis_time: 1_231_006_505,
            genesis_bits: 0x1d00ffff,
            genesis_hash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f".into(),
            overflow: OverflowMode::Wrap,
        }
    }

    /// testnet3: the 20-minute min-difficulty rule, no BIP94 (hence block storms).
    pub fn testnet3() -> Self {
        Self {
            name: "testnet3".into(),
            allow_min_difficulty_blocks: true,
            genesis_time: 1_296_688_602,
            genesis_hash: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943".into(),
            ..Self::mainnet()
        }
    }

    /// testnet4 (BIP94): 20-minute rule, retarget from the period's first block, timewarp fix.
    pub fn testnet4() -> Self {
        Self {
            name: "testnet4".into(),
            allow_min_difficulty_blocks: true,
            enforce_bip94: true,
            genesis_time: 1_714_777_860,
            genesis_hash: "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043".into(),
            ..Self::mainnet()
        }
    }

    /// The default signet.
    pub fn signet() -> Self {
        Self {
            name: "signet".into(),
            pow_limit: U256::from(0x377aeu32) << 216usize,
            genesis_time: 1_598_918_400,
            genesis_bits: 0x1e0377ae,
            genesis_hash: "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6".into(),
            ..Self::mainnet()
        }
    }

    /// regtest: no retargeting, 1-day timespan (144-block boundary), halving every 150 blocks.
    pub fn regtest() -> Self {
        Self {
            name: "regtest".into(),
            pow_limit: U256::MAX >> 1usize,
            pow_target_timespan: 24 * 60 * 60,
            allow_min_difficulty_blocks: true,
            no_retargeting: true,
            subsidy_halving_interval: 150,
            genesis_time: 1_296_688_602,
            genesis_bits: 0x207fffff,
            genesis_hash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206".into(),
            ..Self::mainnet()
        }
    }

    /// Look a built-in network up by name (`mainnet`/`main`/`bitcoin`, `testnet3`/`testnet`,
    /// `testnet4`, `signet`, `regtest`).
    pub fn by_name(name: &str) -> CoreResult<Self> {
        match name.to_ascii_lowercase().as_str() {
            "mainnet" | "main" | "bitcoin" => Ok(Self::mainnet()),
            "testnet3" | "testnet" | "test" => Ok(Self::testnet3()),
            "testnet4" => Ok(Self::testnet4()),
            "signet" => Ok(Self::signet()),
            "regtest" => Ok(Self::regtest()),
            _ => Err(CoreError::InvalidValue {
                what: "network",
                at: Position::Scalar,
                why: format!(
                    "{name:?} is not a known network; use mainnet, testnet3, testnet4, signet or regtest, or build NetworkParams.custom(...)"
                ),
            }),
        }
    }

    /// `DifficultyAdjustmentInterval()`: 2016 on the two-week networks, 144 on regtest.
    pub fn interval(&self) -> i64 {
        self.pow_target_timespan / self.pow_target_spacing
    }

    /// `GetCompact(powLimit)`: the min-difficulty bits.
    pub fn pow_limit_bits(&self) -> u32 {
        encode(self.pow_limit, false)
    }

    /// Whether `powLimit · 4 · timespan` fits in 256 bits (Core's `sanity_check_chainparams`).
    pub fn retarget_cannot_overflow(&self) -> bool {
        let m = U256::from((4 * self.pow_target_timespan) as u64);
        self.pow_limit < U256::MAX / m
    }

    /// Check the parameters make sense (positive spans, spacing divides timespan, …).
    pub fn validate(&self) -> CoreResult<()> {
        let bad = |why: String| {
            Err(CoreError::InvalidValue {
                what: "NetworkParams",
                at: Position::Scalar,
                why,
            })
        };
        if self.pow_target_spacing <= 0 {
            return bad(format!(
                "pow_target_spacing must be > 0 s, got {}",
                self.pow_target_spacing
            ));
        }
        if self.pow_target_timespan < 4 || self.pow_target_timespan > i64::from(u32::MAX) / 4 {
            return bad(format!(
                "pow_target_timespan must be in [4, {}] s, got {}",
                u32::MAX / 4,
                self.pow_target_timespan
            ));
        }
        if self.pow_target_timespan % self.pow_target_spacing != 0 {
            return bad(format!(
                "pow_target_timespan ({}) must be a multiple of pow_target_spacing ({})",
                self.pow_target_timespan, self.pow_target_spacing
            ));
        }
        if self.subsidy_halving_interval <= 0 {
            return bad(format!(
                "subsidy_halving_interval must be > 0 blocks, got {}",
                self.subsidy_halving_interval
            ));
        }
        if self.pow_limit.is_zero() {
            return bad("pow_limit must be > 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::target::decode;

    #[test]
    fn sanity_check_chainparams() {
        for p in [
            NetworkParams::mainnet(),
            NetworkParams::testnet3(),
            NetworkParams::testnet4(),
            NetworkParams::signet(),
            NetworkParams::regtest(),
        ] {
            assert_eq!(p.pow_target_timespan % p.pow_target_spacing, 0);
            let g = decode(p.genesis_bits);
            assert!(!g.negative && !g.overflow && !g.value.is_zero() && g.value <= p.pow_limit);
            assert_eq!(p.pow_limit_bits(), p.genesis_bits, "{}", p.name);
            assert!(p.validate().is_ok());
            if !p.no_retargeting {
                assert!(p.retarget_cannot_overflow(), "{}", p.name);
            }
        }
        assert!(!NetworkParams::regtest().retarget_cannot_overflow());
        assert_eq!(NetworkParams::regtest().interval(), 144);
        assert_eq!(NetworkParams::mainnet().interval(), 2016);
    }
}
