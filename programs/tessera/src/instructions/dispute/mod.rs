pub mod audit;
pub mod challenge;
pub mod expire_dispute;
pub mod game;
pub mod referee;
pub mod resolve_dispute;

pub use audit::*;
pub use challenge::*;
pub use expire_dispute::*;
pub use game::*;
pub use referee::*;
pub use resolve_dispute::*;
