//! libCacheSim's oracleGeneral binary format.
//!
//! A stream of 24-byte little-endian records, no header
//! (libCacheSim `libCacheSim/traceReader/customizedReader/oracle/oracleGeneralBin.h`):
//!
//! ```text
//! u32 clock_time         seconds
//! u64 obj_id
//! u32 obj_size           bytes
//! i64 next_access_vtime  1-based position of the next request to obj_id; -1 (or i64::MAX): never
//! ```
//!
//! Every request is a [`TraceOp::Get`](super::TraceOp::Get) that fills on a miss with `obj_size`
//! bytes and no TTL (a cache trace); the key is [`KeyRef::Id`](super::KeyRef::Id) with
//! `key_len` 0 (obj_size already counts everything the cache stores) and
//! `next_access` the vtime when it is not "never". As libCacheSim's readers
//! do by default (`ignore_size_zero_req`), a record of size 0 is skipped and
//! counted in [`skipped`](TraceSource::skipped) as `size 0`.
//!
//! The file is read in 1 MiB blocks and records are decoded in place; a file
//! whose length is not a multiple of 24 ends in a truncated record, which is
//! an error naming its byte offset.
//!
//! [`write_oracle_general`] writes requests in this format, computing
//! next_access_vtime as libCacheSim's oracle trace generator does.

use super::input::{
    block_error, le_u32, le_u64, read_batch, BatchState, BlockReader, Decoded, BLOCK,
};
use super::record::{Format, Pos, Rec, RecBatch, SkipCounts, TraceError, TraceRecord, TraceSource};
use rustc_hash::FxHashMap;
use std::io::{self, Read, Write};

/// Bytes per record.
pub const RECORD_LEN: usize = 24;

/// Streams an oracleGeneral trace.
pub struct OracleGeneralReader<R> {
    blocks: BlockReader<R>,
    file: String,
    last: Pos,
    skipped: SkipCounts,
}

impl<R: Read + Send> OracleGeneralReader<R> {
    /// A reader over `input`; `file` names it in errors.
    pub fn new(input: R, file: &str) -> Self {
        OracleGeneralReader {
            blocks: BlockReader::new(input, BLOCK),
            file: file.to_string(),
            last: Pos::Byte {
                offset: 0,
                record: 0,
            },
            skipped: SkipCounts::default(),
        }
    }
}

impl<R: Read + Send> TraceSource for OracleGeneralReader<R> {
    fn format(&self) -> Format {
        Format::OracleGeneral
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        loop {
            let offset = self.blocks.offset();
            let record = self.blocks.records() + 1;
            self.last = Pos::Byte { offset, record };
            let b = match self.blocks.next(RECORD_LEN) {
                Ok(Some(b)) => b,
                Ok(None) => return Ok(None),
                Err(e) => return Err(block_error(&self.file, offset, record, RECORD_LEN, e)),
            };
            match decode(b) {
                Some(rec) => return Ok(Some(rec.record(self.last))),
                None => self.skipped.add("size 0"),
            }
        }
    }

    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        let st = BatchState {
            file: &self.file,
            len: RECORD_LEN,
            skipped: &mut self.skipped,
            last: &mut self.last,
        };
        read_batch(&mut self.blocks, st, out, |b| match decode(b) {
            Some(rec) => Decoded::Rec(rec),
            None => Decoded::Skip("size 0"),
        })
    }

    fn position(&self) -> Pos {
        self.last
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skipped.to_vec()
    }
}

/// A record's request; `None` for one of size 0, which libCacheSim's
/// readers skip (`ignore_size_zero_req`).
#[inline]
fn decode(b: &[u8]) -> Option<Rec> {
    let time_s = le_u32(b, 0);
    let id = le_u64(b, 4);
    let size = le_u32(b, 12);
    let next = le_u64(b, 16) as i64;
    (size != 0).then(|| {
        Rec::fill_get(
            u64::from(time_s) * 1_000_000,
            id,
            size,
            (next >= 0 && next != i64::MAX).then_some(next as u64),
        )
    })
}

/// One request to write with [`write_oracle_general`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleGeneralRequest {
    /// Time in seconds.
    pub time_s: u32,
    /// Object id.
    pub obj_id: u64,
    /// Object size in bytes.
    pub obj_size: u32,
}

/// Writes `requests` as oracleGeneral records, each with the 1-based
/// position of the next request to the same object (-1 when none), as
/// libCacheSim's oracle generator (`bin/dep/oracleTraceGen`) computes it and
/// as the files libCacheSim ships hold. One backward pass over the slice
/// with a map of each object's next position: the requests are in memory
/// already, the map holds one entry per distinct object. Returns the number
/// of records written.
pub fn write_oracle_general<W: Write>(
    mut out: W,
    requests: &[OracleGeneralRequest],
) -> io::Result<u64> {
    let mut next = vec![-1i64; requests.len()];
    let mut seen: FxHashMap<u64, i64> = FxHashMap::default();
    for (i, r) in requests.iter().enumerate().rev() {
        if let Some(&p) = seen.get(&r.obj_id) {
            next[i] = p;
        }
        seen.insert(r.obj_id, i as i64 + 1);
    }
    let mut rec = [0u8; RECORD_LEN];
    for (r, n) in requests.iter().zip(next) {
        rec[0..4].copy_from_slice(&r.time_s.to_le_bytes());
        rec[4..12].copy_from_slice(&r.obj_id.to_le_bytes());
        rec[12..16].copy_from_slice(&r.obj_size.to_le_bytes());
        rec[16..24].copy_from_slice(&n.to_le_bytes());
        out.write_all(&rec)?;
    }
    out.flush()?;
    Ok(requests.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::trace::{KeyRef, TraceOp};

    fn cloud_physics() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/cloudPhysicsIO.oracleGeneral.bin")
    }

    fn reqs(v: &[(u32, u64, u32)]) -> Vec<OracleGeneralRequest> {
        v.iter()
            .map(|&(time_s, obj_id, obj_size)| OracleGeneralRequest {
                time_s,
                obj_id,
                obj_size,
            })
            .collect()
    }

    #[test]
    fn reads_the_cloud_physics_trace() {
        let f = std::fs::File::open(cloud_physics()).expect("../shared/data trace");
        let mut r = OracleGeneralReader::new(f, "cloudPhysicsIO.oracleGeneral.bin");
        let (mut n, mut bytes, mut with_next) = (0u64, 0u64, 0u64);
        let mut first = None;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!((rec.op, rec.fill, rec.ttl_ms), (TraceOp::Get, true, 0));
            let KeyRef::Id(id) = rec.key else {
                panic!("oracleGeneral keys are ids")
            };
            first.get_or_insert((rec.time_us, id, rec.size, rec.next_access));
            n += 1;
            bytes += u64::from(rec.size);
            with_next += u64::from(rec.next_access.is_some());
        }
        assert_eq!(n, 113_872);
        assert_eq!(bytes, 4_368_040_448);
        assert!(with_next > 0 && with_next < n);
        assert_eq!(first, Some((5_633_898_000_000, 42_932_745, 512, None)));
        assert!(r.skipped().is_empty());
    }

    #[test]
    fn the_writer_reproduces_libcachesims_next_access_vtimes() {
        // Re-derive every next_access_vtime of the shipped trace from its
        // (time, id, size) alone: the bytes must come out identical.
        let data = std::fs::read(cloud_physics()).unwrap();
        let requests: Vec<OracleGeneralRequest> = data
            .chunks_exact(RECORD_LEN)
            .map(|b| OracleGeneralRequest {
                time_s: le_u32(b, 0),
                obj_id: le_u64(b, 4),
                obj_size: le_u32(b, 12),
            })
            .collect();
        let mut out = Vec::new();
        assert_eq!(write_oracle_general(&mut out, &requests).unwrap(), 113_872);
        assert!(out == data, "written trace differs from the shipped one");
    }

    #[test]
    fn writes_one_based_next_positions() {
        let mut out = Vec::new();
        write_oracle_general(
            &mut out,
            &reqs(&[(1, 7, 10), (2, 8, 20), (3, 7, 10), (4, 9, 0)]),
        )
        .unwrap();
        let mut r = OracleGeneralReader::new(&out[..], "w.bin");
        let mut got = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let KeyRef::Id(id) = rec.key else {
                panic!("oracleGeneral keys are ids")
            };
            got.push((rec.time_us / 1_000_000, id, rec.next_access));
        }
        assert_eq!(got, vec![(1, 7, Some(3)), (2, 8, None), (3, 7, None)]);
        assert_eq!(r.skipped(), vec![("size 0".to_string(), 1)]);
    }

    #[test]
    fn a_truncated_final_record_names_its_offset() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/traces/truncated.oracleGeneral.bin");
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data.len(), 3 * RECORD_LEN + 10);
        let mut r = OracleGeneralReader::new(&data[..], "truncated.oracleGeneral.bin");
        for _ in 0..3 {
            r.next_record().unwrap().unwrap();
        }
        let e = r.next_record().unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated.oracleGeneral.bin: byte 72 (record 4): truncated record: the file ends 10 bytes into a 24-byte record"
        );
        assert_eq!(
            r.position(),
            Pos::Byte {
                offset: 72,
                record: 4
            }
        );
    }
}
