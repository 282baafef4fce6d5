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
}

impl RunSpec {
    /// A single run of a workload's patterns, sampled every second.
    pub fn new(workload: Workload) -> Self {
        RunSpec {
            run_id: "0".into(),
            workload,
            source: Source::Patterns,
            sample_interval: Dur(1_000_000),
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
                .map(|(i, p)| patterns::build(p, i, w.seed, &mut names))
                .collect()
        }
        Source::Trace(input) => {
            let mut replay = Replay::open(input)?;
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
        };
        c.start(&mut ctx)?;
    }
    let period = world.store.cron_period();
    let interval = spec.sample_interval.us();
    queue.push(start + period, Class::Cron, 0, 0);
    queue.push(start + interval, Class::Sample, 0, 0);

    if let Some(e) = end_fixed {
        crate::limits::check_samples(e.saturating_sub(start) / interval.max(1), interval)?;
    }
    let mut samples: u64 = 0;
    let mut end = end_fixed;
    let mut cur = start;
    // Time the last client event ran (the end of a trace without a duration).
    let mut last_client = start;
    // Off a terminal, a long `ttlsim run` says how far it is (per cent of
    // simulated time), checked every 2^20 events.
    let progress = (crate::progress::single_run() && end_fixed.is_some())
        .then(|| crate::progress::Plain::new("per cent of the simulated time", 100));
    let mut events: u64 = 0;
    while let Some(ev) = queue.pop() {
        if let (Some(p), Some(e)) = (&progress, end_fixed) {
            events += 1;
            if events & 0xF_FFFF == 0 {
                let pct = (ev.time - start) as f64 * 100.0 / (e - start).max(1) as f64;
                p.tick(pct as u64, world.rec.sim_ops);
            }
        }
        if end.is_some_and(|e| ev.time > e) {
            break;
        }
        if ev.time != cur {
            world.store.before_sleep(cur);
            world.server_work();
            cur = ev.time;
            if !world.rec.measuring {
                let go = match w.warmup {
                    Warmup::None => true,
                    Warmup::Time(d) => ev.time >= start + d.us(),
                    Warmup::Requests(n) => world.rec.sim_requests >= n,
                };
                if go {
                    world.rec.start_measuring(ev.time, &world.store);
                }
            }
        }
        match ev.class {
            Class::Client => {
                let mut ctx = Ctx {
                    now: ev.time,
                    start,
                    src: ev.src,
                    world: &mut world,
                    queue: &mut queue,
                    trace: trace.as_deref_mut(),
                    trace_err: &mut trace_err,
                };
                clients[ev.src as usize].event(ev.token, &mut ctx)?;
                last_client = ev.time;
            }
            Class::Cron => {
                world.store.cron(ev.time);
                world.server_work();
                queue.push(ev.time + period, Class::Cron, 0, 0);
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
    world.store.before_sleep(cur);
    world.server_work();
    let end = end.unwrap_or(cur);
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
    })
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
