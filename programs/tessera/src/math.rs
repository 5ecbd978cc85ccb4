//! All money math: checked operations with a named error, u128 intermediates, and the `Bps` type.
use crate::constants::BPS_DENOMINATOR;
use crate::error::TesseraError;
use anchor_lang::prelude::*;

/// A share in basis points (0..=10 000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bps(u16);

impl Bps {
    /// Validates `value ≤ 10 000`.
    pub fn new(value: u16) -> Result<Self> {
        require!(value <= BPS_DENOMINATOR, TesseraError::BpsTooLarge);
        Ok(Self(value))
    }

    /// `amount × bps / 10 000`, rounded down (the remainder stays with the payer).
    pub fn apply(self, amount: u64) -> Result<u64> {
        let v = (amount as u128)
            .checked_mul(self.0 as u128)
            .ok_or(TesseraError::MathOverflow)?
            / BPS_DENOMINATOR as u128;
        u64::try_from(v).map_err(|_| error!(TesseraError::MathOverflow))
    }
}

/// The bond of a claim on a `reward` job: `reward × collateral_bps / 10 000`, rounded up, so
/// that it is never 0 for a non-zero reward (`collateral_bps` may exceed 10 000: a bond of
/// several rewards).
pub fn bond_for(reward: u64, collateral_bps: u16) -> Result<u64> {
    let v = (reward as u128)
        .checked_mul(collateral_bps as u128)
        .ok_or(TesseraError::MathOverflow)?
        .div_ceil(BPS_DENOMINATOR as u128);
    u64::try_from(v).map_err(|_| error!(TesseraError::MathOverflow))
}

/// The audit fee a job paying `reward` per replica escrows under `params`: `audit_fee_bps` of
/// one reward, rounded up (never 0 in a market that audits); 0 in a market that does not.
pub fn audit_fee_for(reward: u64, params: &crate::state::MarketParams) -> Result<u64> {
    if params.audit_rate_bps == 0 {
        return Ok(0);
    }
    bond_for(reward, params.audit_fee_bps)
}

pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

pub fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

pub fn add_time(t: i64, d: i64) -> Result<i64> {
    t.checked_add(d)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

/// How one replica's reward is split on payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewardSplit {
    pub operator: u64,
    pub fee: u64,
    pub burn: u64,
}

/// Splits a reward into operator pay, protocol fee and burn. The three always add up to `reward`.
pub fn split_reward(reward: u64, fee_bps: u16, burn_bps: u16) -> Result<RewardSplit> {
    let fee = Bps::new(fee_bps)?.apply(reward)?;
    let burn = Bps::new(burn_bps)?.apply(reward)?;
    let operator = sub(sub(reward, fee)?, burn)?;
    Ok(RewardSplit {
        operator,
        fee,
        burn,
    })
}

/// How a slash is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlashSplit {
    /// Taken from the operator's stake.
    pub total: u64,
    /// Paid to the creator.
    pub creator: u64,
    /// Paid to the honest parties (zero when there are none).
    pub honest: u64,
    /// Burned.
    pub burn: u64,
}

/// Slashes `slash_bps` of `bond`; the creator gets `creator_bps` of it, honest parties
/// `honest_bps` (if `has_honest`), the rest is burned. The parts always add up to `total`.
pub fn split_slash(
    bond: u64,
    slash_bps: u16,
    creator_bps: u16,
    honest_bps: u16,
    has_honest: bool,
) -> Result<SlashSplit> {
    let total = Bps::new(slash_bps)?.apply(bond)?;
    let creator = Bps::new(creator_bps)?.apply(total)?;
    let honest = if has_honest {
        Bps::new(honest_bps)?.apply(total)?
    } else {
        0
    };
    let burn = sub(sub(total, creator)?, honest)?;
    Ok(SlashSplit {
        total,
        creator,
        honest,
        burn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bps_rejects_above_100_percent() {
        assert!(Bps::new(10_001).is_err());
        assert_eq!(Bps::new(10_000).unwrap().apply(u64::MAX).unwrap(), u64::MAX);
        assert_eq!(Bps::new(250).unwrap().apply(1_000).unwrap(), 25);
        assert_eq!(Bps::new(1).unwrap().apply(9_999).unwrap(), 0);
    }

    #[test]
    fn checked_ops_fail_with_named_error() {
        assert!(add(u64::MAX, 1).is_err());
        assert!(sub(0, 1).is_err());
        assert!(mul(u64::MAX, 2).is_err());
        assert!(add_time(i64::MAX, 1).is_err());
    }

    proptest! {
        #[test]
        fn reward_split_conserves(reward in any::<u64>(), fee in 0u16..=10_000, burn in 0u16..=10_000) {
            prop_assume!(fee as u32 + burn as u32 <= 10_000);
            let s = split_reward(reward, fee, burn).unwrap();
            prop_assert_eq!(s.operator as u128 + s.fee as u128 + s.burn as u128, reward as u128);
        }

        #[test]
        fn slash_split_conserves(bond in any::<u64>(), slash in 0u16..=10_000, c in 0u16..=10_000, h in 0u16..=10_000, has in any::<bool>()) {
            prop_assume!(c as u32 + h as u32 <= 10_000);
            let s = split_slash(bond, slash, c, h, has).unwrap();
            prop_assert!(s.total <= bond);
            prop_assert_eq!(s.creator as u128 + s.honest as u128 + s.burn as u128, s.total as u128);
            if !has { prop_assert_eq!(s.honest, 0); }
        }
    }
}
