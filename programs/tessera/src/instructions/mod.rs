//! Instructions, grouped by who calls them.
pub mod admin;
pub mod crank;
pub mod creator;
pub mod dispute;
pub mod operator;
pub mod settlement;

pub use admin::*;
pub use crank::*;
pub use creator::*;
pub use dispute::*;
pub use operator::*;
pub use settlement::*;
