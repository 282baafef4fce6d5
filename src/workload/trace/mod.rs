//! Traces: one reader per format behind one [`TraceSource`] trait.

pub mod csv;
mod input;
pub mod monitor;
pub mod oracle_general;
mod record;
pub mod ttlsim;
pub mod twitter;
pub mod twr;

pub use self::csv::{CsvReader, CsvSpec, TimeUnit};
pub use monitor::MonitorReader;
pub use oracle_general::{write_oracle_general, OracleGeneralReader, OracleGeneralRequest};
pub use record::{Format, KeyRef, Pos, TraceError, TraceOp, TraceRecord, TraceSource};
pub use ttlsim::{
    Op, Request, Row, TraceReader, TraceWriter, TtlsimSource, HEADER, MAX_TIME_MS, MAX_TTL_MS,
};
pub use twitter::TwitterReader;
pub use twr::TwrReader;
