//! Traces: one reader per format behind one [`TraceSource`] trait.
//!
//! | format | file | what it is |
//! | --- | --- | --- |
//! | `ttlsim` | [`ttlsim`] | ttlsim's own CSV, `time_ms,op,key,size,ttl_ms` |
//! | `monitor` | [`monitor`] | `redis-cli MONITOR` output: whole commands |
//! | `oracle-general` | [`oracle_general`] | libCacheSim's 24-byte binary cache trace |
//! | `twr`, `twr-ns` | [`twr`] | libCacheSim's Twitter binary traces |
//! | `twitter` | [`twitter`] | the Twitter cache-trace CSV |
//! | `csv` | [`csv`] | any CSV, described by a [`CsvSpec`] |
//!
//! [`open()`] decompresses `.gz`/`.zst`, detects the format and returns a
//! `Box<dyn TraceSource>`; [`Rebased`] moves time to start at 0 and keeps it
//! monotone. Every reader streams through reused buffers: a
//! [`TraceRecord`] borrows them and nothing is allocated per record.

mod input;
mod record;

pub mod csv;
pub mod monitor;
pub mod open;
pub mod oracle_general;
pub mod piped;
pub mod shared;
pub mod ttlsim;
pub mod twitter;
pub mod twr;

pub use self::csv::{CsvReader, CsvSpec, TimeUnit};
pub use monitor::MonitorReader;
pub use open::{open, Compression, Rebased};
pub use oracle_general::{write_oracle_general, OracleGeneralReader, OracleGeneralRequest};
pub use record::{
    Format, KeyRef, Pos, Rec, RecBatch, TraceError, TraceOp, TraceRecord, TraceSource, BATCH_LEN,
};
pub use shared::{DecodedSource, DecodedTrace};
pub use ttlsim::{
    Op, Request, Row, TraceReader, TraceWriter, TtlsimSource, HEADER, MAX_TIME_MS, MAX_TTL_MS,
};
pub use twitter::TwitterReader;
pub use twr::TwrReader;

/// A file of `tests/data/traces`, for the readers' tests.
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/traces")
        .join(name)
}
