//! ttlsim's integration tests, as one test binary (linking one binary
//! instead of twenty cuts the build on two cores). Each module is one
//! former test file; run one with `cargo test --release --test integration
//! <module>::`. Tests that need a real redis-server start their own and are
//! skipped without one, unless `CI` is set.

mod common;

mod bad_inputs;
mod bad_workloads;
mod belady_trace;
mod columns_doc;
mod eviction_fidelity;
mod expiry_storm;
mod input_limits;
mod memory_calibration;
mod monitor_replay;
mod plan;
mod policy_cloudphysics;
mod policy_references;
mod prop_reference;
mod readme_shell_example;
mod redis_compat;
mod report_png;
mod run_cli;
mod run_engine;
mod safe_outputs;
mod sweep_engine;
mod sweep_parallel;
mod sweep_resume;
mod tidy_csv;
mod trace_cli;
mod trace_sweep;
mod workloads_doc;
