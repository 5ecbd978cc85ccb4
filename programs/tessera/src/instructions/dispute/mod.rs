pub mod challenge_result;
pub mod resolve_dispute;

pub use challenge_result::*;
pub use resolve_dispute::*;
