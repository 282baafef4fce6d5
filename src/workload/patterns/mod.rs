//! Client patterns: small state machines (engine [`Client`]s) that send
//! commands through a [`Ctx`], read the replies, schedule their next step, and count their own
//! outcomes (sessions logged out early, tokens lost, requests wrongly
//! allowed, ...). One file per pattern; [`build`] makes one from its spec.
//!
//! Every pattern draws from its own seeded generator, derived from the run
//! seed and the pattern's position in the file, so adding a pattern does not
//! change the others' random streams.

pub mod cache_aside;
pub mod locks;
pub mod persistent;
pub mod rate_limit;
pub mod sessions;
pub mod swr;
pub mod tokens;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;

use super::ahead::{DrawCache, Drawn, Draws, Stream, MAX_STREAM};
use super::dist::{ArrivalGen, KeySampler, SizeSampler};
use super::spec::PatternSpec;
use crate::sim::keys::{Namespaces, NsRef, SimKey};
use crate::sim::{Client, Ctx};

/// Each pattern kind (as `kind = "..."` names it) and its outcome columns,
/// for `docs/columns.md` and the check that every column is described.
pub const OUTCOMES: &[(&str, crate::metrics::schema::Outcomes)] = &[
    ("cache-aside", cache_aside::OUTCOMES),
    ("sessions", sessions::OUTCOMES),
    ("tokens", tokens::OUTCOMES),
    ("rate-limit", rate_limit::OUTCOMES),
    ("swr", swr::OUTCOMES),
    ("locks", locks::OUTCOMES),
    ("persistent", persistent::OUTCOMES),
];

/// The token of a pattern's arrival event.
pub(crate) const ARRIVAL: u64 = u64::MAX;

/// A pattern's generator: `seed` mixed with its index (SplitMix64).
pub fn pattern_rng(seed: u64, index: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(mix(seed ^ mix(index.wrapping_add(0x5EED))))
}

/// SplitMix64's finaliser: a good 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The size of key `n`'s value: drawn once per key from the key's own
/// stream, so a key keeps its size across fills.
#[inline]
pub(crate) fn key_size(sizes: &SizeSampler, seed: u64, n: u64) -> u32 {
    if let SizeSampler::Fixed(b) = sizes {
        return *b;
    }
    let mut r = Pcg64Mcg::new(((mix(seed ^ n) as u128) << 64) | mix(n ^ 0xA5A5) as u128 | 1);
    sizes.sample(&mut r)
}

/// Schedules the next arrival of `gen` with the [`ARRIVAL`] token (none
/// when [`arrival_after`] gives none).
#[inline]
pub(crate) fn next_arrival(gen: &mut ArrivalGen, rng: &mut Pcg64Mcg, ctx: &mut Ctx) {
    schedule(arrival_after(gen, rng), ctx);
}

/// The next arrival of `gen`, in µs from the start of the run; infinite
/// when the process has no more arrivals, or when the arrival is later than
/// the longest possible run (a rate of 1e-20 per second): the run then ends.
#[inline]
fn arrival_after(gen: &mut ArrivalGen, rng: &mut Pcg64Mcg) -> f64 {
    match gen.next(rng) {
        Some(t) if t <= crate::workload::spec::schema::MAX_DUR_US as f64 => t,
        _ => f64::INFINITY,
    }
}

/// A keyed pattern's own draw per request, after its key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aux {
    /// None.
    None,
    /// A whole number in `0..=n` (none when `n` is 0): a TTL jitter.
    UpTo(u64),
    /// A uniform `f64` in [0, 1), as its bits: a choice among actions.
    Unit,
}

/// One request of a [`KeyedRequests`] stream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// Its key's number in the pattern's key space.
    pub n: u64,
    /// Its key.
    pub key: SimKey,
    /// Its value size (fixed per key).
    pub size: u32,
    /// The pattern's own draw ([`Aux`]).
    pub aux: u64,
}

impl Request {
    /// [`Aux::Unit`]'s draw.
    pub fn unit(&self) -> f64 {
        f64::from_bits(self.aux)
    }
}

/// A stream of keyed requests: when the next one arrives, which key it asks
/// for, that key's value size and the pattern's own draw ([`Aux`]).
/// Cache-aside, persistent keys and rate limits draw their requests this
/// way and differ only in what they send. None of these draws depends on a
/// reply, so they can be drawn away from the run: ahead on a helper thread,
/// or once for all the runs of a sweep ([`Drawing`]).
pub(crate) struct KeyedRequests {
    /// The namespace the keys belong to.
    pub ns: NsRef,
    /// Where the requests come from.
    from: Source,
}

/// Where a [`KeyedRequests`] takes its requests.
enum Source {
    /// Drawn on the run's thread as they are needed.
    Live(Box<Gen>),
    /// A copy shared with other runs, and the next request to take.
    Shared(Arc<Stream>, usize),
    /// Chunks drawn ahead on a helper thread.
    Piped(Pipe),
}

/// Requests a helper thread draws ahead of the run.
struct Pipe {
    first: f64,
    chunks: std::sync::mpsc::Receiver<Vec<Drawn>>,
    chunk: Vec<Drawn>,
    at: usize,
}

impl Pipe {
    /// Takes the next chunk from the helper thread (an error if it has
    /// ended: the run asked for more than its length allows).
    #[cold]
    #[inline(never)]
    fn refill(&mut self) -> anyhow::Result<()> {
        self.chunk = self.chunks.recv().map_err(|_| ran_out())?;
        self.at = 0;
        if self.chunk.is_empty() {
            return Err(ran_out());
        }
        Ok(())
    }
}

/// The error of a stream drawn ahead that ran out, which its length rules
/// out.
#[cold]
fn ran_out() -> anyhow::Error {
    anyhow::anyhow!("internal error: a request stream drawn ahead ran out")
}

/// Requests a piped stream sends at a time (512 KiB).
const CHUNK: usize = 1 << 14;

/// The generators of a keyed stream: everything that decides its draws.
#[derive(Clone)]
struct Gen {
    rng: Pcg64Mcg,
    arrivals: ArrivalGen,
    keys: KeySampler,
    sizes: SizeSampler,
    size_seed: u64,
    aux: Aux,
}

impl Gen {
    /// The next arrival ([`arrival_after`]).
    fn arrival(&mut self) -> f64 {
        arrival_after(&mut self.arrivals, &mut self.rng)
    }

    /// One request's draws: the next arrival, then its key and the
    /// pattern's own draw.
    #[inline]
    fn draw(&mut self) -> Drawn {
        let next = self.arrival();
        let key = self.keys.sample(&mut self.rng);
        let aux = match self.aux {
            Aux::None | Aux::UpTo(0) => 0,
            Aux::UpTo(n) => self.rng.gen_range(0..=n),
            Aux::Unit => self.rng.gen::<f64>().to_bits(),
        };
        Drawn {
            next,
            key,
            aux,
            size: key_size(&self.sizes, self.size_seed, key),
        }
    }

    /// Draws the requests a run of `duration_us` can take, after the
    /// first arrival `first`, in order, into `out` chunk by chunk; stops
    /// when `out` refuses one (`false`).
    fn draw_all(&mut self, first: f64, duration_us: u64, mut out: impl FnMut(Vec<Drawn>) -> bool) {
        // A request due later than the run's end is never taken.
        let mut due = first;
        while due <= duration_us as f64 {
            let mut chunk = Vec::with_capacity(CHUNK);
            while chunk.len() < CHUNK && due <= duration_us as f64 {
                let d = self.draw();
                due = d.next;
                chunk.push(d);
            }
            if !out(chunk) {
                return;
            }
        }
    }
}

impl KeyedRequests {
    /// A stream over `keys` keys, drawn as `drawing` says; the per-key
    /// size seed is drawn first (`sizes` `None`: keys without values, size
    /// 0, no seed drawn).
    pub fn new(
        ns: NsRef,
        mut rng: Pcg64Mcg,
        (arrivals, keys, sizes): (ArrivalGen, KeySampler, Option<SizeSampler>),
        aux: Aux,
        drawing: Drawing,
    ) -> Self {
        let (sizes, size_seed) = match sizes {
            Some(s) => (s, rand::Rng::gen(&mut rng)),
            None => (SizeSampler::Fixed(0), 0),
        };
        let gen = Gen {
            rng,
            arrivals,
            keys,
            sizes,
            size_seed,
            aux,
        };
        let from = match drawing.draws {
            Draws::Live => Source::Live(Box::new(gen)),
            Draws::Piped => pipe(gen, drawing.duration_us),
            Draws::Shared(cache) => share(gen, cache, drawing),
        };
        KeyedRequests { ns, from }
    }

    /// Schedules the first arrival.
    pub fn start(&mut self, ctx: &mut Ctx) {
        let first = match &mut self.from {
            Source::Live(g) => g.arrival(),
            Source::Shared(s, _) => s.first,
            Source::Piped(p) => p.first,
        };
        schedule(first, ctx);
    }

    /// Schedules the next arrival and gives this request. An error only if
    /// a stream drawn ahead ran out, which its length rules out.
    #[inline]
    pub fn next(&mut self, ctx: &mut Ctx) -> anyhow::Result<Request> {
        let d = match &mut self.from {
            Source::Shared(s, at) => {
                let Some(&d) = s.reqs.get(*at) else {
                    return Err(ran_out());
                };
                // The stream is read in order but between many other
                // misses: fetch a few lines ahead.
                crate::store::prefetch::prefetch(s.reqs.as_ptr().wrapping_add(*at + 16));
                *at += 1;
                d
            }
            Source::Piped(p) => {
                if p.at == p.chunk.len() {
                    p.refill()?;
                }
                let d = p.chunk[p.at];
                p.at += 1;
                d
            }
            Source::Live(g) => g.draw(),
        };
        schedule(d.next, ctx);
        Ok(Request {
            n: d.key,
            key: self.ns.key(d.key),
            size: d.size,
            aux: d.aux,
        })
    }
}

/// Reads the requests of `gen` from the cache's copy, drawn there by the
/// first run to ask; draws live when the cache cannot hold it. `gen` is as
/// built: its random stream is the one the seed and index give it, less
/// the size seed, which is what the key says.
fn share(gen: Gen, cache: &DrawCache, with: Drawing) -> Source {
    let key = format!(
        "seed {} pattern {} arrivals {:?} keys {:?} sizes {:?} size seed {} aux {:?} duration {}",
        with.seed,
        with.index,
        gen.arrivals,
        gen.keys,
        gen.sizes,
        gen.size_seed,
        gen.aux,
        with.duration_us
    );
    let mut ahead = gen.clone();
    let stream = cache.get(key, || {
        let first = ahead.arrival();
        let mut reqs = Vec::new();
        let mut fits = true;
        ahead.draw_all(first, with.duration_us, |chunk| {
            fits = reqs.len() + chunk.len() <= MAX_STREAM;
            if fits {
                reqs.extend_from_slice(&chunk);
            }
            fits
        });
        reqs.shrink_to_fit();
        fits.then_some(Stream { first, reqs })
    });
    match stream {
        Some(s) => Source::Shared(s, 0),
        None => Source::Live(Box::new(gen)),
    }
}

/// Draws the requests of `gen` on a helper thread, a few chunks ahead of
/// the run; live if no thread can be started. The thread stops when the
/// run's end is drawn or the run drops the stream.
fn pipe(gen: Gen, duration_us: u64) -> Source {
    let mut ahead = gen.clone();
    let first = ahead.arrival();
    let (tx, rx) = std::sync::mpsc::sync_channel(2);
    let started = std::thread::Builder::new()
        .name("ttlsim-draws".into())
        .spawn(move || ahead.draw_all(first, duration_us, |c| tx.send(c).is_ok()));
    match started {
        Ok(_) => Source::Piped(Pipe {
            first,
            chunks: rx,
            chunk: Vec::new(),
            at: 0,
        }),
        Err(_) => Source::Live(Box::new(gen)),
    }
}

/// Schedules an arrival at `t` µs from the start with the [`ARRIVAL`]
/// token; an infinite one is not scheduled (the process has no more
/// arrivals, and the run ends).
#[inline]
fn schedule(t: f64, ctx: &mut Ctx) {
    if t.is_finite() {
        ctx.schedule_arrival(t, ARRIVAL);
    }
}

/// Whole milliseconds of a duration (at least 1).
#[inline]
pub(crate) fn ms(d: crate::units::Dur) -> u64 {
    d.ms().max(1)
}

/// Per-second rate of a count over the measured time.
pub(crate) fn per_s(count: u64, measured_s: f64) -> f64 {
    if measured_s > 0.0 {
        count as f64 / measured_s
    } else {
        0.0
    }
}

/// How a keyed pattern (cache-aside, persistent, rate-limit) draws its
/// requests: as the run's `draws` say, for pattern `index` of a run with
/// `seed` (which two seed its random stream) lasting `duration_us`.
#[derive(Clone, Copy, Debug)]
pub struct Drawing<'a> {
    /// Live, piped or shared.
    pub draws: &'a Draws,
    /// The run seed.
    pub seed: u64,
    /// The pattern's index in the workload.
    pub index: usize,
    /// The run's length, µs.
    pub duration_us: u64,
}

/// Builds the client for pattern `index` of a workload, registering its
/// namespaces; its keyed requests are drawn as `draws` says, for a run of
/// `duration_us`.
pub fn build(
    spec: &PatternSpec,
    index: usize,
    seed: u64,
    names: &mut Namespaces,
    (draws, duration_us): (&Draws, u64),
) -> Box<dyn Client> {
    let rng = pattern_rng(seed, index as u64);
    let draws = Drawing {
        draws,
        seed,
        index,
        duration_us,
    };
    let ns = names.register(spec.namespace());
    let h = names.handle(ns, spec.key_bytes());
    let col = super::spec::sanitize(spec.namespace());
    match spec {
        PatternSpec::CacheAside(s) => Box::new(cache_aside::CacheAside::new(s, h, col, rng, draws)),
        PatternSpec::Sessions(s) => Box::new(sessions::Sessions::new(s, h, col, rng)),
        PatternSpec::Tokens(s) => Box::new(tokens::Tokens::new(s, h, col, rng)),
        PatternSpec::RateLimit(s) => Box::new(rate_limit::RateLimit::new(s, h, col, rng, draws)),
        PatternSpec::Swr(s) => {
            let ts_name = format!("{}:ts", s.namespace);
            let ts = names.register(&ts_name);
            let ts = names.handle(ts, spec.key_bytes() + 3);
            Box::new(swr::Swr::new(s, h, ts, col, rng))
        }
        PatternSpec::Locks(s) => Box::new(locks::Locks::new(s, h, col, rng)),
        PatternSpec::Persistent(s) => Box::new(persistent::Persistent::new(s, h, col, rng, draws)),
    }
}
