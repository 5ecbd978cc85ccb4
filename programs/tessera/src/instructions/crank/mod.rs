pub mod expire_job;
pub mod finalize_job;
pub mod timeout_job;

pub use expire_job::*;
pub use finalize_job::*;
pub use timeout_job::*;
