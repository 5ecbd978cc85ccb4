pub mod cancel_job;
pub mod close_job;
pub mod create_job;

pub use cancel_job::*;
pub use close_job::*;
pub use create_job::*;
