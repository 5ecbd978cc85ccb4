pub mod collect_fees;
pub mod init_market;
pub mod set_paused;
pub mod update_market;

pub use collect_fees::*;
pub use init_market::*;
pub use set_paused::*;
pub use update_market::*;
