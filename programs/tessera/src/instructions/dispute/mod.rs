pub mod challenge_result;
pub mod expire_dispute;
pub mod resolve_dispute;

pub use challenge_result::*;
pub use expire_dispute::*;
pub use resolve_dispute::*;
