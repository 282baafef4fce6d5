//! Input plumbing shared by the readers: a bounded line reader, a block
//! reader for fixed-size binary records, and allocation-free number parsing.

use super::record::{Pos, Rec, RecBatch, SkipCounts, TraceError, BATCH_LEN};
use std::io::{self, BufRead, Read};

/// Reads lines into one reused buffer, refusing a line longer than `max`
/// bytes so a file without newlines cannot exhaust memory. Strips `\n` and
/// one `\r` before it; counts lines from 1.
pub(crate) struct LineReader<R> {
    r: R,
    buf: Vec<u8>,
    line: u64,
    max: usize,
}

/// Why a line could not be read.
pub(crate) enum LineError {
    /// The underlying reader failed (decompression, I/O).
    Io(io::Error),
    /// The line is longer than the limit.
    TooLong(usize),
}

impl LineError {
    /// The message for a [`TraceError`](super::TraceError).
    pub(crate) fn message(&self) -> String {
        match self {
            LineError::Io(e) => format!("cannot read: {e}"),
            LineError::TooLong(max) => {
                format!("line is longer than {max} bytes (the limit for this format)")
            }
        }
    }
}

impl<R: BufRead> LineReader<R> {
    /// A reader over `r` with lines of at most `max` bytes.
    pub(crate) fn new(r: R, max: usize) -> Self {
        LineReader {
            r,
            buf: Vec::new(),
            line: 0,
            max,
        }
    }

    /// Number of the last line read (0 before the first).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The last line read (empty before the first).
    pub(crate) fn current(&self) -> &[u8] {
        &self.buf
    }

    /// The next line, without its terminator; `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<&[u8]>, LineError> {
        self.buf.clear();
        let mut any = false;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.line += 1;
                    return Err(LineError::Io(e));
                }
            };
            if avail.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            if self.buf.len() + take > self.max {
                self.line += 1;
                return Err(LineError::TooLong(self.max));
            }
            self.buf.extend_from_slice(&avail[..take]);
            self.r.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(&self.buf))
    }
}

/// Reads fixed-size records out of large blocks: one `read` per block,
/// records parsed in place, only a record split across two blocks copied.
pub(crate) struct BlockReader<R> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[start]`.
    offset: u64,
    records: u64,
}

/// A record could not be read.
pub(crate) enum BlockError {
    /// The underlying reader failed.
    Io(io::Error),
    /// The stream ends inside a record: `have` of its bytes are there.
    Truncated { have: usize },
}

/// Block size for binary traces: large enough that a read is rare, small
/// enough to stay in cache.
pub(crate) const BLOCK: usize = 1 << 20;

impl<R: Read> BlockReader<R> {
    /// A reader over `r` with a buffer of `block` bytes.
    pub(crate) fn new(r: R, block: usize) -> Self {
        BlockReader {
            r,
            buf: vec![0; block.max(64)],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            records: 0,
        }
    }

    /// Offset of the next record and the number of records read so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Records read so far.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// The next `n` bytes (`n` <= the block size), or `None` at a clean end.
    #[inline]
    pub(crate) fn next(&mut self, n: usize) -> Result<Option<&[u8]>, BlockError> {
        self.next_run(n, 1)
    }

    /// The next whole records of `n` bytes each (`n` <= the block size):
    /// as many as the buffer holds, at least one and at most `max`, or
    /// `None` at a clean end.
    pub(crate) fn next_run(&mut self, n: usize, max: usize) -> Result<Option<&[u8]>, BlockError> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(BlockError::Io(e)),
            }
        }
        let have = self.end - self.start;
        if have == 0 {
            return Ok(None);
        }
        if have < n {
            return Err(BlockError::Truncated { have });
        }
        let k = (have / n).min(max.max(1));
        let s = self.start;
        self.start += k * n;
        self.offset += (k * n) as u64;
        self.records += k as u64;
        Ok(Some(&self.buf[s..s + k * n]))
    }
}

impl<R> BlockReader<R> {
    /// Hands back the last `records` records of `len` bytes that
    /// [`BlockReader::next_run`] returned (still in the buffer): they are
    /// read again next.
    pub(crate) fn give_back(&mut self, records: usize, len: usize) {
        let n = records * len;
        self.start -= n;
        self.offset -= n as u64;
        self.records -= records as u64;
    }
}

/// What one fixed-size record decodes to.
pub(crate) enum Decoded {
    /// A request.
    Rec(Rec),
    /// A record not replayed, counted under this reason.
    Skip(&'static str),
    /// A malformed record: what is wrong with it.
    Bad(String),
}

/// A binary reader's state that [`read_batch`] updates.
pub(crate) struct BatchState<'a> {
    /// The file, for errors.
    pub file: &'a str,
    /// Bytes per record.
    pub len: usize,
    /// Skipped records by reason.
    pub skipped: &'a mut SkipCounts,
    /// The reader's position (of the last record returned, or the error).
    pub last: &'a mut Pos,
}

/// [`TraceSource::next_batch`](super::TraceSource::next_batch) for a format
/// of fixed-size records: decodes whole runs of the block buffer with
/// `decode`. A block ends before a skipped or malformed record that follows
/// a request (it is read again next): a skip is then counted, and an error
/// returned, exactly when reading record by record would, after the
/// requests before it were taken.
pub(crate) fn read_batch<R: Read>(
    blocks: &mut BlockReader<R>,
    st: BatchState<'_>,
    out: &mut RecBatch,
    decode: impl Fn(&[u8]) -> Decoded,
) -> Result<bool, TraceError> {
    let len = st.len;
    let from = out.len();
    let room = BATCH_LEN.saturating_sub(from);
    loop {
        let (offset, record) = (blocks.offset(), blocks.records() + 1);
        let run = match blocks.next_run(len, room) {
            Ok(Some(b)) => b,
            Ok(None) => {
                *st.last = Pos::Byte { offset, record };
                return Ok(true);
            }
            Err(e) => {
                *st.last = Pos::Byte { offset, record };
                return Err(block_error(st.file, offset, record, len, e));
            }
        };
        let k = run.len() / len;
        let mut back = 0;
        for (j, b) in run.chunks_exact(len).enumerate() {
            let (at, n) = (offset + (j * len) as u64, record + j as u64);
            match decode(b) {
                Decoded::Rec(rec) => out.push(rec, at, n),
                _ if out.len() > from => {
                    back = k - j;
                    break;
                }
                Decoded::Skip(why) => st.skipped.add(why),
                Decoded::Bad(m) => {
                    let pos = Pos::Byte {
                        offset: at,
                        record: n,
                    };
                    *st.last = pos;
                    return Err(TraceError::new(st.file, pos, m));
                }
            }
        }
        if back > 0 {
            blocks.give_back(back, len);
        }
        if out.len() > from {
            *st.last = out.pos_of(out.len() - 1);
            return Ok(true);
        }
    }
}

/// Turns a block error into a [`TraceError`] at the record being read.
pub(crate) fn block_error(
    file: &str,
    offset: u64,
    record: u64,
    len: usize,
    e: BlockError,
) -> TraceError {
    let pos = Pos::Byte { offset, record };
    match e {
        BlockError::Io(e) => TraceError::new(file, pos, format!("cannot read: {e}")),
        BlockError::Truncated { have } => TraceError::new(
            file,
            pos,
            format!("truncated record: the file ends {have} bytes into a {len}-byte record"),
        ),
    }
}

/// Little-endian integers out of a record whose length was checked.
pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

/// See [`le_u32`].
pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

/// See [`le_u32`].
pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

/// A whole number of ASCII digits (no sign, no spaces); `None` when empty,
/// not digits, or too large.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// See [`parse_u64`].
pub(crate) fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// A decimal `digits[.digits]` in a unit of `unit_us` µs, converted to µs
/// (digits past µs precision are dropped); `None` when malformed or out of
/// range.
pub(crate) fn parse_decimal_us(s: &[u8], unit_us: u64) -> Option<u64> {
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut us = parse_u64(int)?.checked_mul(unit_us)?;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 18 || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // frac / 10^len of a unit, in µs, truncated: at most 18 digits keep
        // the products inside u128.
        let f = parse_u64(frac)? as u128;
        let scale = 10u128.pow(frac.len() as u32);
        us = us.checked_add((f * unit_us as u128 / scale) as u64)?;
    }
    Some(us)
}

/// Splits `line` on `delim` into `out` as (start, end) ranges, reusing it.
/// A field that starts with `"` runs to the next `"`, which must end the
/// field; the quotes are dropped (no escapes inside). Returns an error
/// message for an unterminated quote.
pub(crate) fn split_fields(
    line: &[u8],
    delim: u8,
    quotes: bool,
    out: &mut Vec<(usize, usize)>,
) -> Result<(), String> {
    out.clear();
    let mut i = 0;
    loop {
        if quotes && line.get(i) == Some(&b'"') {
            let start = i + 1;
            let close = memchr::memchr(b'"', &line[start..])
                .map(|k| start + k)
                .ok_or_else(|| format!("unterminated quote in field {}", out.len() + 1))?;
            out.push((start, close));
            i = close + 1;
            match line.get(i) {
                None => return Ok(()),
                Some(&c) if c == delim => i += 1,
                Some(_) => {
                    return Err(format!(
                        "field {} has text after its closing quote",
                        out.len()
                    ))
                }
            }
        } else {
            match memchr::memchr(delim, &line[i..]) {
                Some(k) => {
                    out.push((i, i + k));
                    i += k + 1;
                }
                None => {
                    out.push((i, line.len()));
                    return Ok(());
                }
            }
        }
    }
}

/// Shows a field in a message, shortened to 40 bytes.
pub(crate) fn show(s: &[u8]) -> String {
    if s.len() > 40 {
        format!("{}...", String::from_utf8_lossy(&s[..40]))
    } else {
        String::from_utf8_lossy(s).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_and_strip_cr() {
        let mut r = LineReader::new("ab\r\ncd\n\nlast".as_bytes(), 4);
        assert_eq!(r.next_line().ok().flatten(), Some(&b"ab"[..]));
        assert_eq!(r.next_line().ok().flatten(), Some(&b"cd"[..]));
        assert_eq!(r.next_line().ok().flatten(), Some(&b""[..]));
        assert_eq!(r.next_line().ok().flatten(), Some(&b"last"[..]));
        assert!(matches!(r.next_line(), Ok(None)));
        let mut r = LineReader::new(
            std::io::BufReader::with_capacity(2, "abcdef\n".as_bytes()),
            5,
        );
        assert!(matches!(r.next_line(), Err(LineError::TooLong(5))));
        assert_eq!(r.line(), 1);
    }

    #[test]
    fn blocks_copy_only_split_records_and_report_truncation() {
        let data: Vec<u8> = (0..25u8).collect();
        let mut r = BlockReader::new(&data[..], 64);
        // A tiny block forces a record across two reads.
        r.buf.truncate(7);
        assert_eq!(r.next(5).ok().flatten(), Some(&[0, 1, 2, 3, 4][..]));
        assert_eq!(r.next(5).ok().flatten(), Some(&[5, 6, 7, 8, 9][..]));
        for _ in 0..3 {
            assert!(r.next(5).ok().flatten().is_some());
        }
        assert!(matches!(r.next(5), Ok(None)));
        let mut r = BlockReader::new(&data[..23], 64);
        for _ in 0..4 {
            assert!(r.next(5).ok().flatten().is_some());
        }
        assert_eq!(r.offset(), 20);
        assert!(matches!(r.next(5), Err(BlockError::Truncated { have: 3 })));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b" 1"), None);
        assert_eq!(
            parse_decimal_us(b"1764620000.123456", 1_000_000),
            Some(1_764_620_000_123_456)
        );
        assert_eq!(parse_decimal_us(b"1.5", 1000), Some(1500));
        assert_eq!(parse_decimal_us(b"2.0009", 1), Some(2));
        assert_eq!(parse_decimal_us(b"1.", 1000), None);
        assert_eq!(parse_decimal_us(b".5", 1000), None);
        assert_eq!(parse_decimal_us(b"1.2.3", 1000), None);
    }

    #[test]
    fn fields_split_with_and_without_quotes() {
        let mut f = Vec::new();
        let line = b"1,\"a,b\",,x";
        split_fields(line, b',', true, &mut f).unwrap();
        let got: Vec<&[u8]> = f.iter().map(|&(s, e)| &line[s..e]).collect();
        assert_eq!(got, vec![&b"1"[..], b"a,b", b"", b"x"]);
        split_fields(line, b',', false, &mut f).unwrap();
        assert_eq!(f.len(), 5);
        assert_eq!(
            split_fields(b"1,\"ab", b',', true, &mut f).unwrap_err(),
            "unterminated quote in field 2"
        );
        assert_eq!(
            split_fields(b"\"a\"b,1", b',', true, &mut f).unwrap_err(),
            "field 1 has text after its closing quote"
        );
    }
}
