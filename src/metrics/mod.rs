//! Metrics of a run: the [`recorder::Recorder`] that counts on the simulated
//! clock, the [`result::RunResult`] it becomes, the CSV writers
//! ([`output`]) and the printed summary ([`summary`]).
//!
//! Definitions (shared with DESIGN.md): a *request* is a command a client
//! sends, except a cache fill (the SET storing what a miss fetched from the
//! origin); a *command* is any command sent to the store, fills included;
//! *reads* (GET, GETEX) are *hits* plus *misses*; a miss is *cold*
//! (never written, or deleted by a client), *expired* or *evicted*,
//! according to how the key last left the keyspace. Everything excludes the
//! warm-up, except `sim_ops`, which counts every command sent.

pub mod output;
pub mod recorder;
pub mod result;
pub mod schema;
pub mod summary;

pub use result::RunResult;
