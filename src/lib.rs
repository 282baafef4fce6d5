//! # ttlsim
//!
//! A discrete-event simulator and eviction-policy benchmark for a Redis-like
//! expiring key-value store.
//!
//! The heart is [`store::Store`], a model of one Redis 7.0 database on a
//! simulated clock: Redis's commands and replies, lazy and active expiry
//! (`activeExpireCycle`), `used_memory` accounting with jemalloc size
//! classes, `maxmemory` with the eight eviction policies and their sampled
//! approximations. [`command::Server`] puts Redis's command syntax on top of it
//! and [`shell`] prints replies as `redis-cli` does, which is how the model is
//! checked against a real redis-server.

#![warn(missing_docs)]

pub mod cli;
pub mod command;
pub mod fidelity;
pub mod limits;
pub mod metrics;
pub mod plan;
pub mod progress;
pub mod reply;
pub mod report;
pub mod safe_output;
pub mod shell;
pub mod sim;
pub mod store;
pub mod sweep;
pub mod units;
pub mod workload;
