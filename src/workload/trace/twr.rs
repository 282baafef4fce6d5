//! libCacheSim's `twr` and `twrNS` binary formats: the Twitter cache traces
//! as libCacheSim converts them.
//!
//! Little-endian records, no header (libCacheSim
//! `libCacheSim/traceReader/customizedReader/twrBin.h` and `twrNSBin.h`):
//!
//! ```text
//! u32 real_time   seconds
//! u64 obj_id
//! u32 kv_size     key_size = kv_size >> 22 (10 bits), value_size = kv_size & 0x3fffff (22 bits)
//! u32 op_ttl      op = op_ttl >> 24 (8 bits), ttl = op_ttl & 0xffffff (24 bits, seconds)
//! u16 namespace   twrNS only: 22-byte records instead of 20
//! ```
//!
//! The op numbers are libCacheSim's `req_op_e` (`include/libCacheSim/enum.h`):
//! 1 get, 2 gets → [`TraceOp::Get`]; 3 set → `Set`; 4 add → `SetNx`;
//! 5 cas, 6 replace → `SetXx`; 7 append, 8 prepend → `Append`; 9 delete →
//! `Del`; 10 incr → `Incr`; 11 decr → `Decr`; 12 read → `Get`; 13 write,
//! 14 update → `Set`. 0 (nop) is skipped and counted as `op nop`; any other
//! number is an error.
//!
//! The key is [`KeyRef::Id`](super::KeyRef::Id) with `key_len` the record's key size, `size`
//! the value size, `ttl_ms` the TTL × 1000 (0: none). A get fills on a miss
//! with its value size (libCacheSim's simulator inserts every missed object);
//! as libCacheSim's readers do by default (`ignore_size_zero_req`), a get or
//! gets of value size 0 (a miss recorded by the traced server) is skipped and
//! counted as `get of size 0`. The twrNS namespace is read and not kept.

use super::input::{
    block_error, le_u16, le_u32, le_u64, read_batch, BatchState, BlockReader, Decoded, BLOCK,
};
use super::record::{
    Format, Pos, Rec, RecBatch, SkipCounts, TraceError, TraceOp, TraceRecord, TraceSource,
};
use std::io::Read;

/// Bytes per `twr` record.
pub const TWR_LEN: usize = 20;
/// Bytes per `twrNS` record.
pub const TWR_NS_LEN: usize = 22;

/// Streams a `twr` or `twrNS` trace.
pub struct TwrReader<R> {
    blocks: BlockReader<R>,
    file: String,
    ns: bool,
    last: Pos,
    skipped: SkipCounts,
    /// The namespace of the last record (twrNS), for callers that want it.
    namespace: u16,
}

impl<R: Read + Send> TwrReader<R> {
    /// A reader of 20-byte `twr` records (`ns` false) or 22-byte `twrNS`
    /// ones (`ns` true); `file` names it in errors.
    pub fn new(input: R, file: &str, ns: bool) -> Self {
        TwrReader {
            blocks: BlockReader::new(input, BLOCK),
            file: file.to_string(),
            ns,
            last: Pos::Byte {
                offset: 0,
                record: 0,
            },
            skipped: SkipCounts::default(),
            namespace: 0,
        }
    }

    /// Bytes per record.
    fn len(&self) -> usize {
        if self.ns {
            TWR_NS_LEN
        } else {
            TWR_LEN
        }
    }

    /// The twrNS namespace of the last record
    /// [`next_record`](TraceSource::next_record) returned (0 for `twr`).
    pub fn namespace(&self) -> u16 {
        self.namespace
    }
}

/// libCacheSim's op number as a [`TraceOp`]; `Ok(None)` for nop.
fn op(n: u32) -> Result<Option<TraceOp>, String> {
    Ok(Some(match n {
        0 => return Ok(None),
        1 | 2 | 12 => TraceOp::Get,
        3 | 13 | 14 => TraceOp::Set,
        4 => TraceOp::SetNx,
        5 | 6 => TraceOp::SetXx,
        7 | 8 => TraceOp::Append,
        9 => TraceOp::Del,
        10 => TraceOp::Incr,
        11 => TraceOp::Decr,
        _ => {
            return Err(format!(
                "unknown op {n} (libCacheSim's ops are 0 to 14: nop, get, gets, set, add, cas, replace, append, prepend, delete, incr, decr, read, write, update)"
            ))
        }
    }))
}

impl<R: Read + Send> TraceSource for TwrReader<R> {
    fn format(&self) -> Format {
        if self.ns {
            Format::TwrNs
        } else {
            Format::Twr
        }
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        let len = self.len();
        loop {
            let offset = self.blocks.offset();
            let record = self.blocks.records() + 1;
            let pos = Pos::Byte { offset, record };
            self.last = pos;
            let b = match self.blocks.next(len) {
                Ok(Some(b)) => b,
                Ok(None) => return Ok(None),
                Err(e) => return Err(block_error(&self.file, offset, record, len, e)),
            };
            match decode(b) {
                Decoded::Rec(rec) => {
                    self.namespace = if self.ns { le_u16(b, 20) } else { 0 };
                    return Ok(Some(rec.record(pos)));
                }
                Decoded::Skip(why) => self.skipped.add(why),
                Decoded::Bad(m) => return Err(TraceError::new(&self.file, pos, m)),
            }
        }
    }

    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        let st = BatchState {
            file: &self.file,
            len: self.len(),
            skipped: &mut self.skipped,
            last: &mut self.last,
        };
        read_batch(&mut self.blocks, st, out, decode)
    }

    fn position(&self) -> Pos {
        self.last
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skipped.to_vec()
    }
}

/// A record's request (the namespace of twrNS's 22 bytes is not read).
#[inline]
fn decode(b: &[u8]) -> Decoded {
    let time_s = le_u32(b, 0);
    let id = le_u64(b, 4);
    let kv = le_u32(b, 12);
    let op_ttl = le_u32(b, 16);
    let key_size = (kv >> 22) & 0x3ff;
    let val_size = kv & 0x3f_ffff;
    let ttl_s = op_ttl & 0xff_ffff;
    let op = match op(op_ttl >> 24) {
        Ok(Some(op)) => op,
        Ok(None) => return Decoded::Skip("op nop"),
        Err(m) => return Decoded::Bad(m),
    };
    if op == TraceOp::Get && val_size == 0 {
        return Decoded::Skip("get of size 0");
    }
    let time_us = u64::from(time_s) * 1_000_000;
    let ttl_ms = u64::from(ttl_s) * 1000;
    match Rec::new(
        time_us,
        op,
        id,
        key_size,
        val_size,
        ttl_ms,
        op == TraceOp::Get,
    ) {
        Some(rec) => Decoded::Rec(rec),
        None => Decoded::Bad(format!("a TTL of {ttl_s} s is out of range")),
    }
}

/// Encodes one record (for tests): `ns` adds the namespace. Sizes and TTL
/// are masked to their bit widths.
#[cfg(test)]
pub(crate) fn encode_twr(
    time_s: u32,
    id: u64,
    key_size: u32,
    val_size: u32,
    op: u8,
    ttl_s: u32,
    ns: Option<u16>,
) -> Vec<u8> {
    let mut v = Vec::with_capacity(TWR_NS_LEN);
    v.extend_from_slice(&time_s.to_le_bytes());
    v.extend_from_slice(&id.to_le_bytes());
    v.extend_from_slice(&(((key_size & 0x3ff) << 22) | (val_size & 0x3f_ffff)).to_le_bytes());
    v.extend_from_slice(&((u32::from(op) << 24) | (ttl_s & 0xff_ffff)).to_le_bytes());
    if let Some(ns) = ns {
        v.extend_from_slice(&ns.to_le_bytes());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::trace::{fixture, KeyRef};

    type Row = (u64, TraceOp, KeyRef<'static>, u32, u32, u64, bool);

    fn read_all(data: &[u8], ns: bool) -> (Vec<Row>, Vec<u16>, Vec<(String, u64)>) {
        let mut r = TwrReader::new(data, "t.twr", ns);
        let (mut rows, mut nss) = (Vec::new(), Vec::new());
        while let Some(x) = r.next_record().unwrap() {
            let key = match x.key {
                KeyRef::Id(i) => KeyRef::Id(i),
                KeyRef::Name(_) => panic!("twr keys are ids"),
            };
            rows.push((x.time_us, x.op, key, x.key_len, x.size, x.ttl_ms, x.fill));
            nss.push(r.namespace());
        }
        (rows, nss, r.skipped())
    }

    /// The fixture's records as (time_s, id, key_size, val_size, op, ttl_s).
    const FIXTURE: [(u32, u64, u32, u32, u8, u32); 12] = [
        (0, 1, 20, 100, 3, 3600),
        (0, 1, 20, 100, 1, 0),
        (1, 2, 30, 0, 1, 0),
        (1, 2, 30, 4_000_000, 3, 16_777_215),
        (2, 3, 1023, 5, 4, 60),
        (2, 3, 1023, 5, 6, 60),
        (3, 3, 1023, 7, 5, 0),
        (3, 1, 20, 9, 7, 0),
        (4, 1, 20, 9, 8, 0),
        (5, 4, 8, 0, 10, 0),
        (5, 4, 8, 0, 11, 0),
        (6, 1, 20, 0, 9, 0),
    ];

    #[test]
    fn fixtures_match_their_encoding() {
        for (name, ns) in [("small.twr", None), ("small.twrNS", Some(7u16))] {
            let want: Vec<u8> = FIXTURE
                .iter()
                .enumerate()
                .flat_map(|(i, &(t, id, k, v, op, ttl))| {
                    encode_twr(t, id, k, v, op, ttl, ns.map(|n| n + i as u16))
                })
                .collect();
            assert_eq!(std::fs::read(fixture(name)).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn reads_fields_and_maps_ops_as_libcachesim() {
        let data = std::fs::read(fixture("small.twr")).unwrap();
        let (rows, _, skipped) = read_all(&data, false);
        use TraceOp::*;
        let id = KeyRef::Id;
        assert_eq!(
            rows,
            vec![
                (0, Set, id(1), 20, 100, 3_600_000, false),
                (0, Get, id(1), 20, 100, 0, true),
                (1_000_000, Set, id(2), 30, 4_000_000, 16_777_215_000, false),
                (2_000_000, SetNx, id(3), 1023, 5, 60_000, false),
                (2_000_000, SetXx, id(3), 1023, 5, 60_000, false),
                (3_000_000, SetXx, id(3), 1023, 7, 0, false),
                (3_000_000, Append, id(1), 20, 9, 0, false),
                (4_000_000, Append, id(1), 20, 9, 0, false),
                (5_000_000, Incr, id(4), 8, 0, 0, false),
                (5_000_000, Decr, id(4), 8, 0, 0, false),
                (6_000_000, Del, id(1), 20, 0, 0, false),
            ]
        );
        assert_eq!(skipped, vec![("get of size 0".to_string(), 1)]);
    }

    #[test]
    fn twr_ns_keeps_the_namespace_aside() {
        let data = std::fs::read(fixture("small.twrNS")).unwrap();
        let (rows, nss, _) = read_all(&data, true);
        assert_eq!(rows.len(), 11);
        assert_eq!(nss[..3], [7, 8, 10]);
        assert_eq!(nss[10], 18);
        let (twr, ..) = read_all(&std::fs::read(fixture("small.twr")).unwrap(), false);
        assert_eq!(rows, twr);
    }

    #[test]
    fn nop_is_skipped_and_unknown_ops_are_errors() {
        let mut data = encode_twr(0, 1, 1, 1, 0, 0, None);
        data.extend(encode_twr(0, 1, 1, 1, 1, 0, None));
        data.extend(encode_twr(0, 1, 1, 1, 15, 0, None));
        let mut r = TwrReader::new(&data[..], "t.twr", false);
        assert_eq!(r.next_record().unwrap().unwrap().op, TraceOp::Get);
        assert_eq!(r.skipped(), vec![("op nop".to_string(), 1)]);
        assert_eq!(
            r.next_record().unwrap_err().to_string(),
            "t.twr: byte 40 (record 3): unknown op 15 (libCacheSim's ops are 0 to 14: nop, get, gets, set, add, cas, replace, append, prepend, delete, incr, decr, read, write, update)"
        );
    }

    #[test]
    fn truncated_records_name_their_offset() {
        for (name, ns, want) in [
            (
                "truncated.twr",
                false,
                "truncated.twr: byte 40 (record 3): truncated record: the file ends 19 bytes into a 20-byte record",
            ),
            (
                "truncated.twrNS",
                true,
                "truncated.twrNS: byte 44 (record 3): truncated record: the file ends 20 bytes into a 22-byte record",
            ),
        ] {
            let data = std::fs::read(fixture(name)).unwrap();
            let mut r = TwrReader::new(&data[..], name, ns);
            r.next_record().unwrap().unwrap();
            r.next_record().unwrap().unwrap();
            assert_eq!(r.next_record().unwrap_err().to_string(), want);
        }
    }
}
