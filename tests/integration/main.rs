//! stackctl's integration tests: one binary, modules by feature.
//!
//! Emulator tests start their own `moto_server` (installed by scripts/install-dev-tools.sh);
//! a missing emulator or linter fails the test, it is never skipped.

mod cli;
mod cli_conventions;
mod completions_man;
mod data_stage;
mod deploy_down;
mod deploy_faults;
mod deploy_signal;
mod deploy_up;
mod docs_systems;
mod e2e_aws;
mod emulator_deploy;
mod error_replies;
mod images;
mod jobs;
mod jobs_models;
mod json_output;
mod kept_data;
mod mpijob;
mod preflight;
mod readme_use;
mod render_matrix;
mod schema;
mod scripts_lint;
mod snapshots;
mod stack_file_errors;
mod support;
