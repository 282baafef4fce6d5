//! `ttlsim trace`: look at a trace, convert it, or generate one.
//!
//! ```text
//! ttlsim trace stats FILE [--out DIR]
//! ttlsim trace convert IN OUT --to ttlsim|oracle-general [--skip-unsupported]
//! ttlsim trace generate OUT --to ttlsim|oracle-general [--requests N] [--keys K]
//!       [--zipf S] [--seed X] [--ttl-fraction F] [--ttl-min 60s] [--ttl-max 3600s]
//!       [--size-median 256] [--size-sigma 1]
//! ```
//!
//! `stats` and `convert` read any format [`open`](crate::workload::trace::open())
//! reads: `--trace-format NAME` (default: detected), and for a user's CSV
//! `--columns SPEC` (the column part of a [`CsvSpec`](crate::workload::trace::CsvSpec), e.g.
//! `time=1,key=2,size=3`) with `--delimiter`, `--header`, `--time-unit`.
//! Every subcommand's semantics are in its own file: [`stats`], [`convert`],
//! [`generate`]. Every file they write appears whole or not at all
//! ([`AtomicFile`]).

pub mod convert;
pub mod generate;
pub mod stats;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::units::{fnv1a, AtomicFile};
use crate::workload::trace::oracle_general::RECORD_LEN;
use crate::workload::trace::{Format, KeyRef};

/// `ttlsim trace` arguments.
#[derive(Args)]
pub struct TraceArgs {
    /// What to do with the trace.
    #[command(subcommand)]
    pub command: TraceCommand,
}

/// The `ttlsim trace` subcommands.
#[derive(Subcommand)]
pub enum TraceCommand {
    /// Read a trace once and print (and write as trace_stats.csv) its
    /// requests, time span, keys, op mix, namespaces, value sizes, TTLs,
    /// one-hit wonders and working set.
    Stats(stats::StatsArgs),
    /// Rewrite a trace as ttlsim's CSV or libCacheSim's oracleGeneral.
    Convert(convert::ConvertArgs),
    /// Write a synthetic Zipf trace (the replay-speed benchmark's anchor).
    Generate(generate::GenerateArgs),
}

/// Runs `ttlsim trace ...`.
pub fn trace(args: TraceArgs) -> Result<()> {
    match args.command {
        TraceCommand::Stats(a) => stats::stats(&a),
        TraceCommand::Convert(a) => convert::convert(&a),
        TraceCommand::Generate(a) => generate::generate(&a),
    }
}

/// A target format of `convert` and `generate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// ttlsim's CSV, `time_ms,op,key,size,ttl_ms`.
    Ttlsim,
    /// libCacheSim's 24-byte oracleGeneral records.
    OracleGeneral,
}

impl Target {
    /// Parses `--to` (libCacheSim's spelling `oracleGeneral` too); an
    /// unknown name lists the valid ones.
    pub fn parse(s: &str) -> Result<Target> {
        match Format::parse(s) {
            Ok(Format::Ttlsim) => Ok(Target::Ttlsim),
            Ok(Format::OracleGeneral) => Ok(Target::OracleGeneral),
            _ => bail!(
                "--to: cannot write trace format `{s}` (expected one of: ttlsim, oracle-general)"
            ),
        }
    }
}

/// The oracleGeneral id of a named key: `obj:<n>` (what an id becomes in
/// ttlsim's CSV, `n` a u64 in canonical decimal) is `n` again, so a
/// conversion round trip keeps ids; any other name is the 64-bit FNV-1a
/// hash of its bytes (offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`), stable across runs, platforms and versions.
pub fn name_id(name: &[u8]) -> u64 {
    if let Some(digits) = name.strip_prefix(b"obj:") {
        let canonical = !digits.is_empty()
            && digits.iter().all(u8::is_ascii_digit)
            && (digits[0] != b'0' || digits.len() == 1);
        if canonical {
            if let Some(n) = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<u64>().ok())
            {
                return n;
            }
        }
    }
    fnv1a(name)
}

/// The oracleGeneral id of a key (see [`name_id`]).
pub fn key_id(key: KeyRef<'_>) -> u64 {
    match key {
        KeyRef::Id(id) => id,
        KeyRef::Name(n) => name_id(n),
    }
}

/// Refuses to write `out` when it is `input` (the same file, through any
/// path): the input would be destroyed while it is read.
pub fn refuse_same_file(input: &Path, out: &Path) -> Result<()> {
    let same = match (input.canonicalize(), out.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => input == out,
    };
    if same {
        bail!(
            "the output `{}` is the input trace: write to another file",
            out.display()
        );
    }
    Ok(())
}

/// Writes oracleGeneral records as they come, keeping 8 bytes per request
/// (its object id) to fill in the next-access vtimes at the end.
///
/// [`write_oracle_general`](crate::workload::trace::write_oracle_general)
/// needs every request in memory (16 bytes each, and 8 more for the
/// result); this writer streams the records into an [`AtomicFile`] with
/// next_access_vtime -1, then computes the vtimes in one backward pass over
/// the id array (overwriting each id with its request's next position, as
/// libCacheSim's `traceConv` does with a reversed temporary file), then
/// patches them into the file in 1 MiB blocks and commits. The bytes are
/// exactly `write_oracle_general`'s (a unit test checks it on the bundled
/// trace). Memory: 8 bytes per request (16 while the array grows when the
/// count is not known in advance) plus a map entry per distinct object.
pub struct OracleGeneralOut {
    file: AtomicFile,
    w: BufWriter<File>,
    ids: Vec<u64>,
    path: std::path::PathBuf,
}

impl OracleGeneralOut {
    /// Starts writing `path`; `expected` requests are reserved up front
    /// when known (an allocation failure is an error, not an abort).
    pub fn new(path: &Path, expected: Option<u64>) -> Result<Self> {
        let mut ids = Vec::new();
        if let Some(n) = expected {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            ids.try_reserve_exact(n).map_err(|_| {
                anyhow::anyhow!("cannot hold {n} next-access slots (8 bytes per request) in memory")
            })?;
        }
        let file = AtomicFile::sole(path)?;
        let w = BufWriter::with_capacity(1 << 20, file.reopen()?);
        Ok(OracleGeneralOut {
            file,
            w,
            ids,
            path: path.to_path_buf(),
        })
    }

    /// Appends one request.
    pub fn push(&mut self, time_s: u32, obj_id: u64, obj_size: u32) -> Result<()> {
        if self.ids.len() == self.ids.capacity() {
            self.ids
                .try_reserve(self.ids.len().max(1 << 16))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "cannot hold {} next-access slots (8 bytes per request) in memory",
                        self.ids.len()
                    )
                })?;
        }
        self.ids.push(obj_id);
        let mut rec = [0u8; RECORD_LEN];
        rec[0..4].copy_from_slice(&time_s.to_le_bytes());
        rec[4..12].copy_from_slice(&obj_id.to_le_bytes());
        rec[12..16].copy_from_slice(&obj_size.to_le_bytes());
        rec[16..24].copy_from_slice(&(-1i64).to_le_bytes());
        self.w
            .write_all(&rec)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Records pushed so far.
    pub fn len(&self) -> u64 {
        self.ids.len() as u64
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Fills in the next-access vtimes and commits the file; returns the
    /// number of records.
    pub fn finish(self) -> Result<u64> {
        let OracleGeneralOut {
            file,
            w,
            mut ids,
            path,
        } = self;
        let cannot = || format!("cannot write {}", path.display());
        let mut f = w
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(cannot)?;
        // Backward pass: ids[i] becomes the 1-based position of the next
        // request to the same object, or u64::MAX (written as -1) for none.
        let mut seen: FxHashMap<u64, u64> = FxHashMap::default();
        for i in (0..ids.len()).rev() {
            let id = ids[i];
            ids[i] = seen.insert(id, i as u64 + 1).unwrap_or(u64::MAX);
        }
        drop(seen);
        const PER_BLOCK: usize = (1 << 20) / RECORD_LEN;
        let mut block = vec![0u8; PER_BLOCK * RECORD_LEN];
        for (b, chunk) in ids.chunks(PER_BLOCK).enumerate() {
            let offset = (b * PER_BLOCK * RECORD_LEN) as u64;
            let bytes = &mut block[..chunk.len() * RECORD_LEN];
            f.seek(SeekFrom::Start(offset)).with_context(cannot)?;
            f.read_exact(bytes).with_context(cannot)?;
            for (rec, &next) in bytes.chunks_exact_mut(RECORD_LEN).zip(chunk) {
                let n: i64 = if next == u64::MAX { -1 } else { next as i64 };
                rec[16..24].copy_from_slice(&n.to_le_bytes());
            }
            f.seek(SeekFrom::Start(offset)).with_context(cannot)?;
            f.write_all(bytes).with_context(cannot)?;
        }
        f.flush().with_context(cannot)?;
        drop(f);
        file.commit()?;
        Ok(ids.len() as u64)
    }
}

/// A count with its share of a total, as `12 (3.4%)`.
pub(crate) fn with_share(n: u64, total: u64) -> String {
    if total == 0 {
        return n.to_string();
    }
    format!("{n} ({:.1}%)", n as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::TraceOpts;
    use crate::workload::trace::oracle_general::OracleGeneralRequest;
    use crate::workload::trace::write_oracle_general;
    use crate::workload::trace::CsvSpec;

    #[test]
    fn the_streaming_writer_matches_write_oracle_general_on_the_bundled_trace() {
        let data = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/data/cloudPhysicsIO.oracleGeneral.bin"),
        )
        .unwrap();
        let le32 = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let le64 = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let reqs: Vec<OracleGeneralRequest> = data
            .chunks_exact(RECORD_LEN)
            .map(|b| OracleGeneralRequest {
                time_s: le32(b, 0),
                obj_id: le64(b, 4),
                obj_size: le32(b, 12),
            })
            .collect();
        let mut want = Vec::new();
        write_oracle_general(&mut want, &reqs).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.oracleGeneral.bin");
        let mut w = OracleGeneralOut::new(&p, None).unwrap();
        for r in &reqs {
            w.push(r.time_s, r.obj_id, r.obj_size).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 113_872);
        let got = std::fs::read(&p).unwrap();
        assert!(
            got == want,
            "streamed file differs from write_oracle_general"
        );
        assert!(got == data, "and from libCacheSim's own file");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn named_keys_get_stable_ids() {
        assert_eq!(name_id(b"obj:42932745"), 42_932_745);
        assert_eq!(name_id(b"obj:0"), 0);
        assert_eq!(name_id(b"obj:18446744073709551615"), u64::MAX);
        // Not canonical: hashed.
        for n in [
            &b"obj:007"[..],
            b"obj:",
            b"obj:18446744073709551616",
            b"obj:1x",
        ] {
            assert_eq!(name_id(n), fnv1a(n));
        }
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn csv_flags_become_one_spec() {
        let a = TraceOpts {
            columns: Some("time=1,key=2".into()),
            delimiter: Some(",".into()),
            header: true,
            time_unit: Some("s".into()),
            ..Default::default()
        };
        let (f, spec) = a.resolve().unwrap();
        assert_eq!(f, Some(Format::Csv));
        assert_eq!(
            spec,
            Some(CsvSpec::parse("time=1,key=2,delim=comma,header=yes,unit=s").unwrap())
        );
        let e = |a: TraceOpts| a.resolve().unwrap_err().to_string();
        assert_eq!(
            e(TraceOpts {
                trace_format: Some("csv".into()),
                ..Default::default()
            }),
            "--trace-format csv needs --columns (e.g. `--columns time=1,key=2,size=3`)"
        );
        assert_eq!(
            e(TraceOpts {
                header: true,
                ..Default::default()
            }),
            "--header describes a csv trace: give --columns too"
        );
        assert_eq!(
            e(TraceOpts {
                columns: Some("key=1".into()),
                time_unit: Some("h".into()),
                ..Default::default()
            }),
            "csv spec: unit=h: expected s, ms or us"
        );
        assert_eq!(
            e(TraceOpts {
                trace_format: Some("twr".into()),
                columns: Some("key=1".into()),
                ..Default::default()
            }),
            "--columns describes a csv trace; it cannot be used with --trace-format twr"
        );
    }

    #[test]
    fn targets_parse_and_unknown_ones_list_the_valid() {
        assert_eq!(Target::parse("ttlsim").unwrap(), Target::Ttlsim);
        assert_eq!(
            Target::parse("oracleGeneral").unwrap(),
            Target::OracleGeneral
        );
        assert_eq!(
            Target::parse("twr").unwrap_err().to_string(),
            "--to: cannot write trace format `twr` (expected one of: ttlsim, oracle-general)"
        );
    }
}
