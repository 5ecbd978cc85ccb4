//! On-chain accounts (DESIGN §2).
pub mod buffer;
pub mod game;
pub mod job;
pub mod market;
pub mod operator;

pub use buffer::*;
pub use game::*;
pub use job::*;
pub use market::*;
pub use operator::*;
