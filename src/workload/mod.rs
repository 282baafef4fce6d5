//! Workloads: the spec files ([`spec`]), the distributions they are built
//! from ([`dist`]), the client patterns that play them ([`patterns`]) and
//! the trace format ([`trace`]).

pub mod ahead;
pub mod dist;
pub mod patterns;
pub mod refill;
pub mod replay;
pub mod sample;
pub mod spec;
pub mod trace;

pub use spec::{load_workload, parse_workload, PatternSpec, SpecError, Warmup, Workload};
