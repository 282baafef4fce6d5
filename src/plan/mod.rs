//! `ttlsim plan`: the smallest `maxmemory` per policy that meets a set of
//! objectives, the recommended policy, and the memory to provision.
//!
//! The curves come from miniature simulations ([`mini`], and
//! `workload::sample` / [`trace_sample`] for the sampling): a sample of
//! `R` of the keys, `maxmemory` scaled by `R`, several seeds. Each policy's
//! answer is then checked by one full-size run ([`search::verify`]), raised
//! and bisected when it fails. [`verdict`] turns runs into answers, and is
//! shared with the sweep report.

pub mod cli;
pub mod mini;
pub mod objective;
pub mod output;
pub mod search;
pub mod trace_sample;
pub mod verdict;
