pub mod claim_job;
pub mod deliver_result;
pub mod deposit_stake;
pub mod exit_operator;
pub mod register_operator;
pub mod request_unstake;
pub mod update_operator;
pub mod withdraw_stake;

pub use claim_job::*;
pub use deliver_result::*;
pub use deposit_stake::*;
pub use exit_operator::*;
pub use register_operator::*;
pub use request_unstake::*;
pub use update_operator::*;
pub use withdraw_stake::*;
