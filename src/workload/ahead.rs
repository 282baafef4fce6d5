//! Keyed requests drawn ahead, once per sweep.
//!
//! A keyed pattern (cache-aside, persistent keys, rate limits) draws the same
//! things for every request whatever the store replies: when the next
//! request comes, which key it asks for, its value size, and one draw of the
//! pattern's own (a TTL jitter, a write-or-read choice). So its requests are
//! a function of its generators' starting state and the run's length alone,
//! and the runs of a sweep that share them (other policies, memory sizes,
//! TTLs, as long as the seed and the pattern's traffic are the same) can
//! read one copy rather than each drawing it again: the Zipf sampling and
//! exponential gaps are a quarter of a run's work. The draws are the very
//! ones the run would make, so its outputs are byte-identical.
//!
//! A [`DrawCache`] holds the streams by the generators' state; it is
//! bounded ([`MAX_STREAM`] requests per stream, [`BUDGET_BYTES`] in all),
//! and a pattern whose stream does not fit draws live, as a single run does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// How a run's keyed patterns draw their requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Draws {
    /// On the run's thread, as they are needed.
    Live,
    /// On a helper thread per keyed pattern that keeps a few chunks ahead
    /// of the run: a single run, which has a core to spare. The default.
    #[default]
    Piped,
    /// From a copy shared with other runs (a sweep's or a plan's): each
    /// stream is drawn once, by the first run that needs it.
    Shared(Arc<DrawCache>),
}

/// One request of a keyed pattern, as drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drawn {
    /// What the arrival process gave for the next request, in µs from the
    /// start of the run (infinite: it gave none).
    pub next: f64,
    /// This request's key number.
    pub key: u64,
    /// The pattern's own draw for this request
    /// ([`crate::workload::patterns::Aux`]).
    pub aux: u64,
    /// This request's value size.
    pub size: u32,
}

/// A pattern's requests for one run: the first arrival, then every request
/// that can fall within the run, in order.
#[derive(Debug)]
pub struct Stream {
    /// The first arrival, as [`Drawn::next`].
    pub first: f64,
    /// The requests.
    pub reqs: Vec<Drawn>,
}

/// Most requests one stream holds (64 MiB); a pattern with more draws live.
pub const MAX_STREAM: usize = 1 << 21;

/// Most bytes all the streams of one cache hold (and reserve while drawing).
pub const BUDGET_BYTES: u64 = 256 << 20;

/// One key's stream, once drawn (`None` inside: it did not fit).
type Slot = Arc<OnceLock<Option<Arc<Stream>>>>;

/// Streams by the state of the generators that draw them, shared by the
/// runs (and threads) of a sweep.
#[derive(Default)]
pub struct DrawCache {
    streams: Mutex<HashMap<String, Slot>>,
    bytes: AtomicU64,
}

/// The number of streams and bytes held, not the streams.
impl std::fmt::Debug for DrawCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrawCache")
            .field("streams", &self.streams())
            .field("bytes", &self.bytes.load(Ordering::Relaxed))
            .finish()
    }
}

/// Any two caches are equal: a cache never changes what a run gives, so
/// two run specs that differ only in theirs describe the same run.
impl PartialEq for DrawCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl DrawCache {
    /// The stream of generators in state `key`, drawn by `draw` the first
    /// time it is asked for (`draw` gives `None` past [`MAX_STREAM`]).
    /// `None` when it does not fit: the caller then draws live. Callers
    /// asking for the same key at once wait for one drawing.
    pub fn get(&self, key: String, draw: impl FnOnce() -> Option<Stream>) -> Option<Arc<Stream>> {
        let cell = self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let reserve = (MAX_STREAM * size_of::<Drawn>()) as u64;
            if self.bytes.fetch_add(reserve, Ordering::Relaxed) + reserve > BUDGET_BYTES {
                self.bytes.fetch_sub(reserve, Ordering::Relaxed);
                return None;
            }
            let stream = draw();
            let held = stream
                .as_ref()
                .map_or(0, |s| (s.reqs.len() * size_of::<Drawn>()) as u64);
            self.bytes.fetch_sub(reserve - held, Ordering::Relaxed);
            stream.map(Arc::new)
        })
        .clone()
    }

    /// Streams held (for tests and the summary).
    pub fn streams(&self) -> usize {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|c| matches!(c.get(), Some(Some(_))))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize) -> Option<Stream> {
        Some(Stream {
            first: 1.0,
            reqs: vec![
                Drawn {
                    next: 2.0,
                    key: 3,
                    aux: 4,
                    size: 5
                };
                n
            ],
        })
    }

    #[test]
    fn a_stream_is_drawn_once_per_key_and_the_budget_holds() {
        let c = DrawCache::default();
        let a = c.get("a".into(), || stream(10)).unwrap();
        let again = c.get("a".into(), || panic!("drawn twice")).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        // Too long to keep: drawn live, and asked again, still not kept.
        assert!(c.get("long".into(), || None).is_none());
        assert!(c.get("long".into(), || panic!("drawn twice")).is_none());
        assert_eq!(c.streams(), 1);
        // Full streams fill the budget; the next is refused.
        let per = (MAX_STREAM * size_of::<Drawn>()) as u64;
        let fit = (BUDGET_BYTES / per) as usize;
        for i in 0..fit - 1 {
            assert!(c.get(format!("full{i}"), || stream(MAX_STREAM)).is_some());
        }
        assert!(c.get("over".into(), || stream(MAX_STREAM)).is_none());
        assert_eq!(c.streams(), fit);
    }
}
