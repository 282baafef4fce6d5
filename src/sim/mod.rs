//! The discrete-event engine: clients and the server cron on one simulated
//! clock.
//!
//! [`run`] plays a [`RunSpec`] and returns its [`RunResult`]. The clock
//! starts at a fixed epoch ([`START_MS`]) or, for a MONITOR capture, at its
//! first line's time; never the system clock. Events pop
//! from an [`queue::EventQueue`] ordered by (time, class, sequence): client
//! requests, then the cron (every `1/hz` s: `serverCron`'s active expire
//! cycle), then metric samples (every `sample_interval`). After all events
//! that share a timestamp, the engine calls `beforeSleep` (the fast expire
//! cycle). Clients act on whole milliseconds, so a run and the replay of its
//! recorded trace see the same event order.
//!
//! A run is single-threaded and deterministic: the same spec gives the same
//! result, byte for byte once written. Parallelism belongs to sweeps, which
//! run many `RunSpec`s (it is `Send + Clone`) at once.

pub mod client;
pub mod ctx;
pub mod keys;
pub mod queue;

pub use client::Client;
pub use ctx::{Ctx, World};

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::time::Instant;

use crate::metrics::recorder::Recorder;
use crate::metrics::result::{Row, RunResult};
use crate::metrics::schema;
use crate::store::{Micros, SimValue, Store};
use crate::units::Dur;
use crate::workload::patterns;
use crate::workload::replay::{trace_file_name, Replay, TraceInput};
use crate::workload::spec::{sanitize, Warmup, Workload};
use ctx::TraceSink;
use keys::{KeyBook, Namespaces};
use queue::{Class, EventQueue};

/// Simulated start of every run: 2023-11-14T22:13:20Z, in Unix ms.
pub const START_MS: u64 = 1_700_000_000_000;

/// Where the requests come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The workload's patterns.
    Patterns,
    /// A trace, replayed.
    Trace(TraceInput),
}

/// Everything one run needs.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Id of the run in the output files (`"0"` for a single run).
    pub run_id: String,
    /// The workload, with command-line overrides applied.
    pub workload: Workload,
    /// Patterns or a trace.
    pub source: Source,
    /// Time between metric samples.
    pub sample_interval: Dur,
    /// How keyed patterns draw their requests ([`crate::workload::ahead`]).
    pub draws: crate::workload::ahead::Draws,
}

impl RunSpec {
    /// A single run of a workload's patterns, sampled every second.
    pub fn new(workload: Workload) -> Self {
        RunSpec {
            run_id: "0".into(),
            workload,
            source: Source::Patterns,
            sample_interval: Dur(1_000_000),
            draws: Default::default(),
        }
    }
}

/// Runs a spec.
pub fn run(spec: &RunSpec) -> Result<RunResult> {
    simulate(spec, None)
}

/// Runs a spec while writing every request its clients send as a trace to
/// `out` (see `workload::trace`). Returns the result and the rows written.
pub fn record(spec: &RunSpec, out: Box<dyn Write + Send>) -> Result<(RunResult, u64)> {
    if spec.source != Source::Patterns {
        bail!("only generated workloads can be recorded");
    }
    let mut sink = TraceSink::new(out)?;
    let r = simulate(spec, Some(&mut sink))?;
    let (_, rows) = sink.finish().context("cannot write the trace")?;
    Ok((r, rows))
}

/// Records a spec's trace into the file `path`: a new path or a regular
/// file is written atomically, so a failed or interrupted recording leaves
/// no partial trace; a FIFO or a device is written in place (see
/// [`OutFile`](crate::safe_output::OutFile)).
pub fn record_to_path(spec: &RunSpec, path: &std::path::Path) -> Result<(RunResult, u64)> {
    let file = crate::safe_output::OutFile::create(path)?;
    let out = std::io::BufWriter::with_capacity(1 << 16, file.writer()?);
    let r = record(spec, Box::new(out)).map_err(|e| {
        // A write error (a full disk) names the file.
        if e.chain().any(|c| c.is::<std::io::Error>()) {
            e.context(format!("cannot write {}", path.display()))
        } else {
            e
        }
    })?;
    file.commit()?;
    Ok(r)
}

/// Mixes the run seed into the seed of a stream (`0`: the store).
fn stream_seed(seed: u64, stream: u64) -> u64 {
    patterns::mix(seed ^ patterns::mix(stream))
}

fn simulate(spec: &RunSpec, mut trace: Option<&mut TraceSink>) -> Result<RunResult> {
    let wall = Instant::now();
    let w = &spec.workload;
    // A fixed epoch, or a MONITOR capture's own first time (its absolute
    // expire times must mean what they meant on the server).
    let start: Micros = match &spec.source {
        Source::Trace(t) => t.clock_start_us()?.unwrap_or(START_MS * 1000),
        Source::Patterns => START_MS * 1000,
    };
    let mut store: Store<SimValue> = Store::new(w.server.clone(), stream_seed(w.seed, 0), start);
    store.record_events(true);

    let mut names = Namespaces::default();
    let mut clients: Vec<Box<dyn Client>> = match &spec.source {
        Source::Patterns => {
            if w.patterns.is_empty() {
                bail!("workload `{}` has no patterns", w.name);
            }
            if w.server.policy.needs_future() {
                bail!(
                    "maxmemory-policy belady needs the future: use it with --trace \
                     (record the workload with `ttlsim record` first)"
                );
            }
            w.patterns
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let duration_us = w.duration.map_or(0, |d| d.us());
                    patterns::build(p, i, w.seed, &mut names, (&spec.draws, duration_us))
                })
                .collect()
        }
        Source::Trace(input) => {
            // A single run decodes the trace on a helper thread, as it
            // draws its patterns' requests ahead (`Draws::Piped`).
            let piped = matches!(spec.draws, crate::workload::ahead::Draws::Piped);
            let mut replay = Replay::open(input, piped)?;
            if w.server.policy.needs_future() {
                replay.load_future(input)?;
            }
            vec![Box::new(replay)]
        }
    };
    let end_fixed = match (&spec.source, w.duration) {
        (_, Some(d)) => Some(start + d.us()),
        (Source::Trace(_), None) => None,
        (Source::Patterns, None) => bail!("a generated workload needs a duration"),
    };
    if spec.sample_interval.us() < 1000 {
        bail!("the sample interval must be at least 1ms");
    }
    let cols: Vec<(String, String)> = names
        .names()
        .iter()
        .map(|n| (n.clone(), sanitize(n)))
        .collect();
    let mut world = World {
        store,
        rec: Recorder::new(&cols),
        book: KeyBook::new(cols.len()),
        names,
    };
    if let Some(t) = trace.as_deref_mut() {
        t.set_names(world.names.names());
    }
    let mut queue = EventQueue::default();
    let mut trace_err: Option<std::io::Error> = None;
    if w.warmup == Warmup::None {
        world.rec.start_measuring(start, &world.store);
    }

    for (i, c) in clients.iter_mut().enumerate() {
        let mut ctx = Ctx {
            now: start,
            start,
            src: i as u32,
            world: &mut world,
            queue: &mut queue,
            trace: trace.as_deref_mut(),
            trace_err: &mut trace_err,
            clock: None,
            in_place_until: 0,
            queue_read: false,
        };
        c.start(&mut ctx)?;
    }
    let period = world.store.cron_period();
    let mut cron = CronTicks {
        next: start + period,
        period,
        busy: 0,
    };
    let interval = spec.sample_interval.us();
    queue.push(start + interval, Class::Sample, 0, 0);

    if let Some(e) = end_fixed {
        crate::limits::check_samples(e.saturating_sub(start) / interval.max(1), interval)?;
    }
    let mut samples: u64 = 0;
    let mut end = end_fixed;
    let mut clock = Clock {
        cur: start,
        start,
        warmup: w.warmup,
    };
    // Time the last client event ran (the end of a trace without a duration).
    let mut last_client = start;
    // Off a terminal, a long `ttlsim run` says how far it is (per cent of
    // simulated time), checked every 2^20 events or simulated operations
    // (a replay runs most of its records in place, without an event).
    let progress = (crate::progress::single_run() && end_fixed.is_some())
        .then(|| crate::progress::Plain::new("per cent of the simulated time", 100));
    let mut events: u64 = 0;
    let mut progress_ops: u64 = 1 << 20;
    while let Some(ev) = queue.pop() {
        if let (Some(p), Some(e)) = (&progress, end_fixed) {
            events += 1;
            if events & 0xF_FFFF == 0 || world.rec.sim_ops >= progress_ops {
                progress_ops = world.rec.sim_ops + (1 << 20);
                let pct = (ev.time - start) as f64 * 100.0 / (e - start).max(1) as f64;
                p.tick(pct as u64, world.rec.sim_ops);
            }
        }
        // The cron ticks due first: before a client event, those strictly
        // earlier (clients run first at equal times); before a sample, those
        // at its time too; none after the end.
        if cron.next <= ev.time {
            let due = match ev.class() {
                Class::Client => ev.time - 1,
                _ => ev.time,
            };
            cron.run_until(end.map_or(due, |e| due.min(e)), &mut world, &mut clock)?;
        }
        if end.is_some_and(|e| ev.time > e) {
            break;
        }
        clock.advance(&mut world, ev.time);
        match ev.class() {
            Class::Client => {
                let mut ctx = Ctx {
                    now: ev.time,
                    start,
                    src: ev.src,
                    world: &mut world,
                    queue: &mut queue,
                    trace: trace.as_deref_mut(),
                    trace_err: &mut trace_err,
                    clock: Some(&mut clock),
                    // A client event at the cron's next tick still runs
                    // before it (see above).
                    in_place_until: cron.next.min(end.unwrap_or(Micros::MAX)),
                    queue_read: false,
                };
                clients[ev.src as usize].event(ev.token, &mut ctx)?;
                // The time of the last event it ran (in place, maybe).
                last_client = ctx.now;
            }
            Class::Sample => {
                samples += 1;
                crate::limits::check_samples(samples, interval)?;
                if world.rec.sample_due(ev.time) {
                    world.rec.sample((ev.time - start) / 1000, &world.store);
                }
                queue.push(ev.time + interval, Class::Sample, 0, 0);
            }
        }
        if end.is_none() && queue.client_events() == 0 {
            end = Some(last_client);
        }
        if let Some(e) = trace_err.take() {
            return Err(e).context("cannot write the trace");
        }
    }
    world.store.before_sleep(clock.cur);
    world.server_work();
    let end = end.unwrap_or(clock.cur);
    if !world.rec.measuring {
        bail!(
            "the warm-up ({}) never ended: the run sent only {} requests in {}",
            match w.warmup {
                Warmup::Requests(n) => format!("{n} requests"),
                other => other.to_string(),
            },
            world.rec.sim_ops,
            Dur(end - start)
        );
    }
    let measured_s = (end.saturating_sub(world.rec.measure_start)) as f64 / 1e6;
    let columns = columns(
        spec,
        &world.rec,
        &world.store,
        &clients,
        (start, end - start),
        measured_s,
    );
    let wall_ms = wall.elapsed().as_secs_f64() * 1000.0;
    Ok(RunResult {
        run_id: spec.run_id.clone(),
        columns,
        timeseries: world.rec.series.clone(),
        latency: world.rec.latency_buckets(),
        sim_ops: world.rec.sim_ops,
        sim_requests: world.rec.sim_requests,
        wall_ms,
        notes: clients.iter().flat_map(|c| c.notes()).collect(),
        policy_used: world.store.policy_used(),
    })
}

/// The event loop's present: leaving a time runs `beforeSleep`, and the
/// first event (or cron tick) once the warm-up is over starts measuring.
pub(crate) struct Clock {
    cur: Micros,
    start: Micros,
    warmup: Warmup,
}

impl Clock {
    /// Moves to time `to` (no-op if it is the present).
    #[inline]
    fn advance(&mut self, world: &mut World, to: Micros) {
        if to == self.cur {
            return;
        }
        world.store.before_sleep(self.cur);
        world.server_work();
        self.cur = to;
        if !world.rec.measuring {
            let go = match self.warmup {
                Warmup::None => true,
                Warmup::Time(d) => to >= self.start + d.us(),
                Warmup::Requests(n) => world.rec.sim_requests >= n,
            };
            if go {
                world.rec.start_measuring(to, &world.store);
            }
        }
    }
}

/// The server cron (`serverCron` at `hz`), kept beside the event queue
/// rather than in it: ticks that would only advance the LRU clock (a
/// miniature runs its slow expire cycle on one tick in 1/rate; no server
/// has one to run while no key has a TTL) are skipped in one step, so a
/// miniature's cost scales with its traffic rather than its duration, and
/// a trace's idle gaps cost nothing. The skip is exact: every figure is
/// what running each tick would give. Ticks that do run are bounded by
/// [`MAX_BUSY_TICKS`](crate::limits::MAX_BUSY_TICKS).
struct CronTicks {
    next: Micros,
    period: Micros,
    /// Ticks run rather than skipped, bounded by
    /// [`MAX_BUSY_TICKS`](crate::limits::MAX_BUSY_TICKS).
    busy: u64,
}

impl CronTicks {
    /// Runs (or skips) every tick due at or before `limit`; an error once
    /// too many have run.
    fn run_until(&mut self, limit: Micros, world: &mut World, clock: &mut Clock) -> Result<()> {
        while self.next <= limit {
            clock.advance(world, self.next);
            let mut idle = world.store.idle_ticks_ahead();
            if !world.rec.measuring {
                // The tick at or after a timed warm-up's end starts the
                // measurement. (A warm-up counted in requests cannot end on
                // a tick the previous transition did not end it on.)
                if let Warmup::Time(d) = clock.warmup {
                    let left = (clock.start + d.us()).saturating_sub(self.next);
                    idle = idle.min(left.div_ceil(self.period));
                }
            }
            let n = idle.min((limit - self.next) / self.period + 1);
            #[cfg(test)]
            let n = tests::skip_switch(n);
            if n > 0 {
                let last = self.next + (n - 1) * self.period;
                world.store.skip_idle_ticks(n, last);
                clock.cur = last;
                self.next = last + self.period;
            } else {
                self.busy += 1;
                let span = self.next - clock.start;
                crate::limits::check_busy_ticks(self.busy, span, self.period)?;
                world.store.cron(self.next);
                world.server_work();
                self.next += self.period;
            }
        }
        Ok(())
    }
}

/// The `runs.csv` row: the schema's parameters and metrics
/// ([`crate::metrics::schema`]), then each client's outcomes.
fn columns(
    spec: &RunSpec,
    rec: &Recorder,
    store: &Store<SimValue>,
    clients: &[Box<dyn Client>],
    (start_us, duration_us): (Micros, Micros),
    measured_s: f64,
) -> Vec<(String, String)> {
    let (params, source) = run_params(spec, duration_us);
    let measure_start_ms = (rec.measure_start.saturating_sub(start_us)) / 1000;
    let end = schema::RunEnd::new(rec, store, measured_s, measure_start_ms);
    let mut row = schema::run_row(&params, source, &end);
    for c in clients {
        c.outcomes(&rec.ns, measured_s, &mut row);
    }
    row.0
}

/// A run's identity and server settings, and its source's `param_` columns,
/// for a run of `duration_us` (warm-up included).
fn run_params(
    spec: &RunSpec,
    duration_us: Micros,
) -> (schema::RunParams<'_>, Vec<(String, String)>) {
    let w = &spec.workload;
    let params = schema::RunParams {
        run_id: &spec.run_id,
        workload: &w.name,
        seed: w.seed,
        duration_us,
        warmup: w.warmup,
        config: &w.server,
    };
    let mut source = Row::default();
    match &spec.source {
        Source::Patterns => {
            let d = Dur(duration_us);
            for p in &w.patterns {
                let ns = sanitize(p.namespace());
                for (k, v) in p.params(d) {
                    source.put(format!("param_{ns}_{k}"), v);
                }
            }
        }
        Source::Trace(t) => {
            source.put(
                "param_trace_file",
                trace_file_name(&t.path).replace(',', "_"),
            );
            source.put("param_trace_fill", t.fill);
        }
    }
    (params, source.0)
}

/// The parameter columns `spec`'s row in `runs.csv` will have, known before
/// it runs: the duration is the workload's (0 for a whole trace, whose
/// length is known only once it is read).
pub fn param_row(spec: &RunSpec) -> Vec<(String, String)> {
    let duration_us = spec.workload.duration.map_or(0, |d| d.0);
    let (params, source) = run_params(spec, duration_us);
    schema::param_row(&params, source).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Whether idle cron ticks may be skipped, and how many were.
        static SKIP: Cell<(bool, u64)> = const { Cell::new((true, 0)) };
    }

    /// The number of idle ticks to skip, as the test allows.
    pub(super) fn skip_switch(n: u64) -> u64 {
        SKIP.with(|c| {
            let (on, skipped) = c.get();
            let n = if on { n } else { 0 };
            c.set((on, skipped + n));
            n
        })
    }

    fn run_with(spec: &RunSpec, skip: bool) -> (RunResult, u64) {
        SKIP.with(|c| c.set((skip, 0)));
        let mut r = run(spec).expect("runs");
        r.wall_ms = 0.0;
        (r, SKIP.with(|c| c.get().1))
    }

    /// Skipping idle cron ticks changes no figure: every column, sample
    /// and lag bucket equals running each tick, with evictions, expiry, a
    /// timed or counted warm-up and a trace's end; in miniatures (which
    /// skip between slow cycles) and at full size (which skips while no key
    /// has a TTL: the tokens between campaigns, profiles never given one).
    #[test]
    fn skipping_idle_cron_ticks_is_exact() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        // The workload, a text edit of it, the policy, maxmemory above the
        // fixed memory, the warm-up, and 1/rate.
        let no_expire = ("expire_fraction = 0.01", "expire_fraction = 0.0");
        for (file, edit, policy, maxmemory, warmup, rate) in [
            (
                "tokens",
                None,
                "allkeys-lru",
                40_000,
                Some(Warmup::Time(Dur(1_170_250_000))),
                16,
            ),
            (
                "sessions",
                None,
                "volatile-lru",
                20_000,
                Some(Warmup::Time(Dur(300_250_000))),
                16,
            ),
            (
                "mixed",
                None,
                "allkeys-lfu",
                400_000,
                Some(Warmup::Requests(500)),
                16,
            ),
            ("tokens", None, "allkeys-lru", 600_000, None, 1),
            (
                "persistent",
                Some(no_expire),
                "allkeys-lfu",
                1_000_000,
                None,
                1,
            ),
        ] {
            let path = root.join(format!("workloads/{file}.toml"));
            let mut src = std::fs::read_to_string(&path).expect("a bundled workload");
            if let Some((from, to)) = edit {
                assert!(src.contains(from), "{file}: no {from}");
                src = src.replace(from, to);
            }
            let w = crate::workload::spec::parse_workload(&src, file).expect("parses");
            let rate = 1.0 / f64::from(rate);
            let mut m = if rate < 1.0 {
                crate::workload::sample::miniature(&w, rate, 0.4)
            } else {
                w
            };
            m.server.miniature_rate = rate;
            // Above the server's fixed memory (baseline, clients).
            m.server.maxmemory = crate::plan::mini::fixed_memory(&m.server) + maxmemory;
            m.server.policy = crate::store::Policy::parse(policy).expect("a policy");
            if let Some(wu) = warmup {
                m.warmup = wu;
            }
            m.duration = Some(Dur(45 * 60 * 1_000_000));
            let spec = RunSpec::new(m);
            let (skipped, n) = run_with(&spec, true);
            let (each, none) = run_with(&spec, false);
            assert!(n > 10_000, "{file}: only {n} ticks skipped");
            assert_eq!(none, 0);
            let evicted = skipped.get("evicted_keys").unwrap_or("0");
            assert!(evicted != "0", "{file}: no evictions");
            assert_eq!(skipped, each, "{file}");
            checked += 1;
        }
        assert_eq!(checked, 5);
    }
}

#[cfg(test)]
mod shared_draws {
    use super::*;
    use crate::workload::ahead::{DrawCache, Draws};
    use std::sync::Arc;

    /// Runs that read their keyed patterns' requests from a sweep's cache,
    /// or from a helper thread, give exactly what drawing them live gives;
    /// a cache-aside TTL does not change the draws (its streams are
    /// shared), a duration or seed does (they are not).
    #[test]
    fn shared_draws_give_the_live_runs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(root.join("workloads/mixed.toml")).expect("mixed");
        let cache = Arc::new(DrawCache::default());
        let variants = [
            ("ttl = \"5m\"\nttl_jitter", "2m", 1, "allkeys-lru"),
            ("ttl = \"1m\"\nttl_jitter", "2m", 1, "volatile-ttl"),
            ("ttl = \"5m\"\nttl_jitter", "3m", 1, "allkeys-lfu"),
            ("ttl = \"5m\"\nttl_jitter", "2m", 2, "noeviction"),
        ];
        for (ttl, duration, seed, policy) in variants {
            let text = src.replace("ttl = \"5m\"\nttl_jitter", ttl);
            let mut w = crate::workload::spec::parse_workload(&text, "mixed").expect("parses");
            w.duration = Some(Dur::parse(duration).unwrap());
            w.warmup = Warmup::Time(Dur::parse("30s").unwrap());
            w.seed = seed;
            w.server.maxmemory = 6 << 20;
            w.server.policy = crate::store::Policy::parse(policy).unwrap();
            let mut spec = RunSpec::new(w);
            let mut got = Vec::new();
            for draws in [Draws::Live, Draws::Piped, Draws::Shared(cache.clone())] {
                spec.draws = draws;
                let mut r = run(&spec).expect("runs");
                r.wall_ms = 0.0;
                got.push(r);
            }
            assert!(
                got[0] == got[1],
                "piped: {ttl} {duration} seed {seed} {policy}"
            );
            assert!(
                got[0] == got[2],
                "shared: {ttl} {duration} seed {seed} {policy}"
            );
        }
        // cache, rate-limit and user streams: one per (duration, seed).
        assert_eq!(cache.streams(), 3 * 3);
    }

    /// A single run decodes its trace on a helper thread: the same result
    /// as decoding it on the run's thread, whole or cut short by a
    /// duration, and the same error for a truncated file.
    #[test]
    fn a_piped_trace_gives_the_live_run() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let cloud = root.join("../shared/data/cloudPhysicsIO.oracleGeneral.bin");
        let truncated = crate::workload::trace::fixture("truncated.oracleGeneral.bin");
        for (file, duration) in [(&cloud, None), (&cloud, Some("10m")), (&truncated, None)] {
            let mut w = crate::workload::spec::Workload::for_trace("t");
            w.server.maxmemory = 2 << 20;
            w.server.policy = crate::store::Policy::parse("allkeys-lru").unwrap();
            w.duration = duration.map(|d| Dur::parse(d).unwrap());
            let mut spec = RunSpec::new(w);
            spec.source = Source::Trace(crate::workload::replay::TraceInput::new(file.clone()));
            let mut got = Vec::new();
            for draws in [Draws::Live, Draws::Piped] {
                spec.draws = draws;
                got.push(run(&spec).map(|mut r| {
                    r.wall_ms = 0.0;
                    r
                }));
            }
            match (&got[0], &got[1]) {
                (Ok(a), Ok(b)) => assert!(a == b, "{} {duration:?}", file.display()),
                (Err(a), Err(b)) => assert_eq!(format!("{a:#}"), format!("{b:#}")),
                _ => panic!("{}: one failed, one did not", file.display()),
            }
        }
    }
}
