//! The job module: model profiles (data under `templates/jobs/`) and, built on them, the
//! training jobs stackctl submits to SageMaker on the stack.

pub mod logs;
pub mod metrics;
pub mod mpijob;
pub mod profile;
pub mod request;
pub mod submit;
pub mod watch;
