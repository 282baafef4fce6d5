//! [`Client`]: what the engine drives. A client pattern or a trace replay
//! schedules its events through a [`Ctx`] and acts on the store through it
//! when they pop; the engine knows nothing else about it.
//!
//! This is the one deliberate two-way tie between layers (DESIGN.md): the
//! engine owns the interface, and the workload module implements it.

use anyhow::Result;

use super::ctx::Ctx;
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;

/// A client of the simulated server.
pub trait Client: Send {
    /// Schedules the first events.
    fn start(&mut self, ctx: &mut Ctx) -> Result<()>;
    /// Handles one of its events.
    fn event(&mut self, token: u64, ctx: &mut Ctx) -> Result<()>;
    /// Appends its outcome metrics as `<ns>_<metric>` columns; `ns` holds the
    /// recorder's view of each namespace, `measured_s` the measured time.
    fn outcomes(&self, ns: &[NsStats], measured_s: f64, out: &mut Row);
    /// Lines for the run summary that the columns cannot hold (a replay's
    /// skipped commands by name, ...). None by default.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}
