//! A trace's miniature: the requests of a spatially hashed sample of its
//! keys (SHARDS, FAST'15): key `k` is kept when `hash(k, salt) mod 2^24 <
//! rate · 2^24`, so every request of a kept key is kept and the sample
//! holds `rate` of the keys whatever their popularity.
//!
//! An oracle-general trace is written back as oracle-general (its next-access
//! times recomputed over the sample), so the miniature counts key bytes as
//! the original does; any other trace is written as ttlsim's CSV, key names
//! unchanged.

use anyhow::{Context, Result};
use rustc_hash::FxHashSet;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::workload::patterns::mix;
use crate::workload::replay::TraceInput;
use crate::workload::trace::{Format, KeyRef, OracleGeneralRequest, Rebased, TraceSource};

const SPACE: u64 = 1 << 24;

fn key_hash(k: &KeyRef<'_>, salt: u64) -> u64 {
    let h = match k {
        KeyRef::Id(id) => mix(*id ^ 0x1D),
        KeyRef::Name(n) => {
            let mut h = 0xCBF2_9CE4_8422_2325u64;
            for b in n.iter() {
                h = (h ^ *b as u64).wrapping_mul(0x100_0000_01B3);
            }
            mix(h)
        }
    };
    mix(h ^ salt) % SPACE
}

/// A 48-bit identity of a key (two 24-bit hashes), for counting distinct
/// keys without keeping their names.
fn key_identity(k: &KeyRef<'_>) -> u64 {
    key_hash(k, 0) ^ (key_hash(k, 1) << 24)
}

/// Distinct keys and requests of a trace (one pass).
pub fn count_keys(input: &TraceInput) -> Result<(u64, u64)> {
    let mut src = input.open()?;
    let mut seen = FxHashSet::default();
    let mut n = 0u64;
    while let Some(r) = src.next_record()? {
        seen.insert(key_identity(&r.key));
        n += 1;
    }
    Ok((seen.len() as u64, n))
}

/// Candidate salts [`choose_salt`] compares.
const SALTS: u64 = 32;

/// The salt, among 32 derived from `seed`, whose sample at `rate`
/// best stands for the whole trace: its requests and its keys' bytes (each
/// key's size at its first request), divided by `rate`, nearest the
/// trace's own (the sum of both relative gaps). A hash sample of a few
/// thousand keys keeps or drops the few hottest or largest keys by luck, and
/// a trace whose object sizes span orders of magnitude then misstates
/// memory; comparing salts in one pass removes most of that luck.
pub fn choose_salt(input: &TraceInput, rate: f64, seed: u64) -> Result<u64> {
    let salts: Vec<u64> = (0..SALTS).map(|i| mix(seed ^ mix(i + 1))).collect();
    if rate >= 1.0 {
        return Ok(salts[0]);
    }
    let keep = (rate * SPACE as f64).round() as u64;
    let mut src = input.open()?;
    let mut seen = FxHashSet::default();
    let (mut requests, mut bytes) = (0f64, 0f64);
    let mut kept = vec![(0f64, 0f64); salts.len()];
    while let Some(r) = src.next_record()? {
        let first = seen.insert(key_identity(&r.key));
        requests += 1.0;
        let size = if first { r.size as f64 } else { 0.0 };
        bytes += size;
        for (salt, k) in salts.iter().zip(kept.iter_mut()) {
            if key_hash(&r.key, *salt) < keep {
                k.0 += 1.0;
                k.1 += size;
            }
        }
    }
    let gap = |x: f64, total: f64| {
        if total > 0.0 {
            (x / rate / total - 1.0).abs()
        } else {
            0.0
        }
    };
    Ok(salts
        .iter()
        .zip(&kept)
        .map(|(s, k)| (gap(k.0, requests) + gap(k.1, bytes), *s))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(salts[0], |x| x.1))
}

/// Writes the requests of `rate` of `input`'s keys (hash salted by `salt`)
/// to `out`; returns the input for the sampled file and the records kept.
pub fn sample_trace(
    input: &TraceInput,
    rate: f64,
    salt: u64,
    out: &Path,
) -> Result<(TraceInput, u64)> {
    let src = input.open()?;
    let format = src.format();
    let mut src = Rebased::new(src);
    let keep = (rate * SPACE as f64).round() as u64;
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut kept = 0u64;
    let cannot = || format!("cannot write {}", out.display());
    if format == Format::OracleGeneral {
        let mut reqs = Vec::new();
        while let Some(r) = src.next_record()? {
            if key_hash(&r.key, salt) >= keep {
                continue;
            }
            let KeyRef::Id(id) = r.key else { continue };
            reqs.push(OracleGeneralRequest {
                time_s: (r.time_us / 1_000_000) as u32,
                obj_id: id,
                obj_size: r.size,
            });
        }
        kept = crate::workload::trace::write_oracle_general(&mut w, &reqs).with_context(cannot)?;
    } else {
        writeln!(w, "{}", crate::workload::trace::HEADER).with_context(cannot)?;
        let mut id_buf = String::new();
        while let Some(r) = src.next_record()? {
            if key_hash(&r.key, salt) >= keep
                || r.time_us / 1000 > crate::workload::trace::MAX_TIME_MS
            {
                continue;
            }
            // The rows `trace convert --to ttlsim` writes; records it cannot
            // write are left out of the sample as they are of a conversion.
            let Ok((op, key, size, ttl)) = crate::cli::trace::convert::ttlsim_row(&r, &mut id_buf)
            else {
                continue;
            };
            let (t, size, ttl) = (
                (r.time_us / 1000).to_string(),
                size.to_string(),
                ttl.to_string(),
            );
            w.write_all(
                crate::units::csv_line([
                    t.as_bytes(),
                    op.as_bytes(),
                    key,
                    size.as_bytes(),
                    ttl.as_bytes(),
                ])
                .as_bytes(),
            )
            .with_context(cannot)?;
            kept += 1;
        }
    }
    w.flush().with_context(cannot)?;
    let mut sampled = input.clone();
    sampled.path = out.to_path_buf();
    sampled.csv = None;
    sampled.format = Some(if format == Format::OracleGeneral {
        Format::OracleGeneral
    } else {
        Format::Ttlsim
    });
    Ok((sampled, kept))
}
