//! `ttlsim trace convert IN OUT --to ttlsim|oracle-general`.
//!
//! IN is streamed once through [`Rebased`] (so OUT's time starts at 0 and
//! never goes back) and OUT is written through an
//! [`AtomicFile`]: it appears whole or not at
//! all. OUT may not be IN.
//!
//! `--to ttlsim` writes `time_ms,op,key,size,ttl_ms` rows: time in whole ms
//! (rounded down); an id key becomes `obj:<id>`; a name must be non-empty
//! UTF-8. Ops map to ttlsim's where it has them: a filling `get` keeps its
//! size and TTL, a non-filling one is written with size 0 and TTL 0 (so
//! the replay does not fill); `set`, `setnx` (size > 0), `del`, `expire`
//! (TTL > 0; `expire` 0 deletes in Redis, so it is written as `del`),
//! `persist`, `incr`, `getex`. `setxx`, `append`, `decr`, a monitor
//! command, a `set` of 0 bytes, an unnamed or non-UTF-8 key, and times or
//! TTLs beyond ttlsim's 100-year bounds cannot be written: each is an error
//! naming the record's position, or with `--skip-unsupported` is counted
//! and reported. The key length of formats that give one apart from the key
//! (twr) is not kept: ttlsim counts the name's bytes.
//!
//! `--to oracle-general` writes libCacheSim's 24-byte records with the
//! next-access vtimes libCacheSim's `traceConv` computes (see
//! [`OracleGeneralOut`]): time in whole seconds (rounded down), the id as
//! is, or for a name the id `name_id` gives (`obj:<n>` → n, otherwise the
//! FNV-1a 64 hash of its bytes), and the value size (the key's bytes are
//! not added). TTLs cannot be written and are dropped (counted and said).
//! Every request that reads or writes the value is a record — `get`,
//! `set`, `setnx`, `setxx`, `incr`, `decr`, `getex`; `del`, `expire`,
//! `persist`, `append` and monitor commands are no object request and are
//! unsupported as above. A request of size 0 is not written and is
//! reported as `size 0`: libCacheSim's readers drop such records
//! (`ignore_size_zero_req`, on by default and in `traceConv`), so writing
//! them would only shift every next-access vtime.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::{key_id, refuse_same_file, OracleGeneralOut, Target};
use crate::cli::TraceOpts;
use crate::say;
use crate::units::{csv_writer, AtomicFile};
use crate::workload::trace::{
    KeyRef, Rebased, TraceError, TraceOp, TraceRecord, TraceSource, HEADER, MAX_TIME_MS, MAX_TTL_MS,
};

/// `ttlsim trace convert` arguments.
#[derive(Args)]
pub struct ConvertArgs {
    /// The trace to read (plain, .gz or .zst).
    pub input: PathBuf,
    /// The file to write.
    pub output: PathBuf,
    /// The format to write: ttlsim or oracle-general.
    #[arg(long, value_name = "FORMAT")]
    pub to: String,
    /// Drop (and count) records the target cannot express instead of
    /// stopping at the first.
    #[arg(long)]
    pub skip_unsupported: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input_format: TraceOpts,
}

/// Counts by reason, in first-seen order; past 64 reasons (monitor
/// command names come from the file) the rest count as `other`.
#[derive(Default, Debug)]
struct Counts(Vec<(String, u64)>);

impl Counts {
    fn add(&mut self, why: &str) {
        let why = if self.0.len() >= 64 && !self.0.iter().any(|(w, _)| w == why) {
            "other"
        } else {
            why
        };
        match self.0.iter_mut().find(|(w, _)| w == why) {
            Some(e) => e.1 += 1,
            None => self.0.push((why.to_string(), 1)),
        }
    }
    fn total(&self) -> u64 {
        self.0.iter().map(|e| e.1).sum()
    }
    fn show(&self) -> String {
        let v: Vec<String> = self.0.iter().map(|(w, n)| format!("{w} {n}")).collect();
        v.join(", ")
    }
}

/// A ttlsim row of a record, or why there is none.
pub(crate) fn ttlsim_row<'a>(
    r: &TraceRecord<'a>,
    id_buf: &'a mut String,
) -> Result<(&'static str, &'a [u8], u32, u64), String> {
    let op = match r.op {
        TraceOp::Get => "get",
        TraceOp::Set => "set",
        TraceOp::SetNx => "setnx",
        TraceOp::Del => "del",
        TraceOp::Expire if r.ttl_ms == 0 => "del",
        TraceOp::Expire => "expire",
        TraceOp::Persist => "persist",
        TraceOp::Incr => "incr",
        TraceOp::Getex => "getex",
        TraceOp::SetXx | TraceOp::Append | TraceOp::Decr => {
            return Err(format!("op {}", r.op.name()))
        }
        TraceOp::Command => {
            let name = r.argv.first().map_or(String::new(), |a| {
                String::from_utf8_lossy(a).to_ascii_uppercase()
            });
            return Err(format!("command {name}"));
        }
    };
    if matches!(r.op, TraceOp::Set | TraceOp::SetNx) && r.size == 0 {
        return Err(format!("{} of 0 bytes", r.op.name()));
    }
    if r.ttl_ms > MAX_TTL_MS {
        return Err("ttl over 100 years".into());
    }
    let key: &[u8] = match r.key {
        KeyRef::Id(id) => {
            use std::fmt::Write as _;
            id_buf.clear();
            let _ = write!(id_buf, "obj:{id}");
            id_buf.as_bytes()
        }
        KeyRef::Name([]) => return Err("empty key".into()),
        KeyRef::Name(n) if std::str::from_utf8(n).is_err() => return Err("key not UTF-8".into()),
        KeyRef::Name(n) => n,
    };
    let (size, ttl) = match r.op {
        TraceOp::Get if !r.fill => (0, 0),
        TraceOp::Del | TraceOp::Expire if op == "del" => (0, 0),
        _ => (r.size, r.ttl_ms),
    };
    Ok((op, key, size, ttl))
}

/// What each message says a target cannot take.
fn refusal(target: Target, why: &str) -> String {
    let t = match target {
        Target::Ttlsim => "a ttlsim trace row",
        Target::OracleGeneral => "an oracle-general record",
    };
    format!("cannot write {why} as {t}; pass --skip-unsupported to drop such records")
}

/// Runs `ttlsim trace convert`.
pub fn convert(args: &ConvertArgs) -> Result<()> {
    let target = Target::parse(&args.to)?;
    refuse_same_file(&args.input, &args.output)?;
    let mut src = Rebased::new(args.input_format.open(&args.input)?);
    let file = src.file().to_string();
    let mut unsupported = Counts::default();
    let mut dropped = Counts::default();
    let mut read = 0u64;
    let mut ttls_dropped = 0u64;
    let check = |r: &TraceRecord<'_>, why: String, unsupported: &mut Counts| -> Result<()> {
        if !args.skip_unsupported {
            bail!(TraceError::new(&file, r.pos, refusal(target, &why)));
        }
        unsupported.add(&why);
        Ok(())
    };
    let written = match target {
        Target::Ttlsim => {
            let out = AtomicFile::sole(&args.output)?;
            let mut w = csv_writer(BufWriter::with_capacity(1 << 20, out.reopen()?));
            let cannot = || format!("cannot write {}", args.output.display());
            w.write_record(HEADER.split(',')).with_context(cannot)?;
            let (mut id_buf, mut t, mut s, mut l) =
                (String::new(), String::new(), String::new(), String::new());
            let mut n = 0u64;
            while let Some(r) = src.next_record()? {
                read += 1;
                let time_ms = r.time_us / 1000;
                if time_ms > MAX_TIME_MS {
                    check(&r, "time over 100 years".into(), &mut unsupported)?;
                    continue;
                }
                match ttlsim_row(&r, &mut id_buf) {
                    Ok((op, key, size, ttl)) => {
                        use std::fmt::Write as _;
                        t.clear();
                        s.clear();
                        l.clear();
                        let _ = write!(t, "{time_ms}");
                        let _ = write!(s, "{size}");
                        let _ = write!(l, "{ttl}");
                        w.write_record([
                            t.as_bytes(),
                            op.as_bytes(),
                            key,
                            s.as_bytes(),
                            l.as_bytes(),
                        ])
                        .with_context(cannot)?;
                        n += 1;
                    }
                    Err(why) => check(&r, why, &mut unsupported)?,
                }
            }
            let mut inner = w
                .into_inner()
                .map_err(|e| anyhow::anyhow!("{}", e.error()))
                .with_context(cannot)?;
            inner.flush().with_context(cannot)?;
            drop(inner);
            out.commit()?;
            n
        }
        Target::OracleGeneral => {
            let mut out = OracleGeneralOut::new(&args.output, None)?;
            while let Some(r) = src.next_record()? {
                read += 1;
                let why = match r.op {
                    TraceOp::Del | TraceOp::Expire | TraceOp::Persist | TraceOp::Append => {
                        Some(format!("op {}", r.op.name()))
                    }
                    TraceOp::Command => Some(format!(
                        "command {}",
                        r.argv
                            .first()
                            .map_or(String::new(), |a| String::from_utf8_lossy(a)
                                .to_ascii_uppercase())
                    )),
                    _ => None,
                };
                if let Some(why) = why {
                    check(&r, why, &mut unsupported)?;
                    continue;
                }
                let Ok(time_s) = u32::try_from(r.time_us / 1_000_000) else {
                    check(&r, "time past 2^32 s".into(), &mut unsupported)?;
                    continue;
                };
                if r.size == 0 {
                    dropped.add("size 0");
                    continue;
                }
                ttls_dropped += u64::from(r.ttl_ms > 0);
                out.push(time_s, key_id(r.key), r.size)?;
            }
            out.finish()?
        }
    };
    say!("read {read} records from {}", args.input.display())?;
    let skipped = src.skipped();
    if !skipped.is_empty() {
        let v: Vec<String> = skipped.iter().map(|(w, n)| format!("{w} {n}")).collect();
        say!("  skipped by the reader: {}", v.join(", "))?;
    }
    if src.clamped() > 0 {
        say!("  {} times clamped to the previous record's", src.clamped())?;
    }
    if unsupported.total() > 0 {
        say!(
            "  skipped {} the target cannot express: {}",
            unsupported.total(),
            unsupported.show()
        )?;
    }
    if !dropped.0.is_empty() {
        say!("  not written: {}", dropped.show())?;
    }
    if ttls_dropped > 0 {
        say!("  TTLs dropped (oracle-general cannot hold one): {ttls_dropped} requests had one")?;
    }
    say!(
        "wrote {written} records to {} ({})",
        args.output.display(),
        match target {
            Target::Ttlsim => "ttlsim",
            Target::OracleGeneral => "oracle-general",
        }
    )?;
    Ok(())
}
