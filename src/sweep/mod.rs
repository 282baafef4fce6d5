//! `ttlsim sweep`: expanding a grid of runs, running it in parallel, sharding
//! and resuming; `ttlsim merge`: joining shards.
//!
//! A sweep is a [`grid::Grid`] (named dimensions, each a list of values; the
//! runs are their product) played by an [`exec::Runner`] on a rayon pool.
//! Results go to `results/<experiment>/` as CSV (see [`exec`] for the file
//! layout and why the files are always complete), then the report is drawn.

pub mod cli;
pub mod exec;
pub mod fingerprint;
pub mod grid;
pub mod synthetic;
pub mod workload;
