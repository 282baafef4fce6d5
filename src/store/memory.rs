//! The model of Redis's `used_memory` (src/zmalloc.c, src/object.c, src/sds.c,
//! src/dict.c in 7.0, jemalloc 5 on x86-64).
//!
//! `used_memory` is the sum of `je_malloc_usable_size` of every live
//! allocation, so every term is rounded up to its jemalloc size class
//! ([`size_class`]). For a string key of `k` bytes holding a value:
//!
//! ```text
//! key    = 32                       dictEntry, 24 B → class 32      (dictAddRaw)
//!        + class(sds_hdr(k) + k + 1)  the key's own sds              (dbAdd → sdsdup)
//!        + value_bytes                see below                      (tryObjectEncoding)
//!        + 32 if the key has a TTL    expires dictEntry; shares the key sds (setExpire)
//! tables = 8 × buckets, main and expires dicts, both arrays alive while rehashing
//! total  = baseline + Σ key + tables
//! ```
//!
//! Value encodings (`tryObjectEncoding`, `createStringObject`):
//!
//! * an integer-looking string (≤ 20 chars, canonical `long`) in 0..10000 is
//!   the shared object: 0 B, unless `maxmemory` is set with an LRU/LFU policy
//!   (`MAXMEMORY_FLAG_NO_SHARED_INTEGERS`), where each key needs its own
//!   access stamp;
//! * any other integer: INT encoding, one `robj`: 16 B;
//! * up to 44 bytes: EMBSTR, one allocation `class(16 + 3 + len + 1)`;
//! * longer: RAW, `16 + class(sds_hdr(len) + len + 1)`.
//!
//! The baseline is a fresh server with one client connected (measured on
//! Debian's redis-server 7.0.15; see tests/data/).

/// jemalloc 5 size class (x86-64, 16-byte quantum) of an allocation of `n`
/// bytes: 8, 16, 32, 48, …, 128, then four classes per doubling.
#[inline]
pub fn size_class(n: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return (n + 15) & !15;
    }
    // For 2^k < n ≤ 2^(k+1), round up to a multiple of 2^(k-2).
    let k = 63 - (n - 1).leading_zeros() as u64; // floor(log2(n-1))
    let step = 1u64 << (k - 2);
    (n + step - 1) & !(step - 1)
}

/// Header bytes of an sds string of length `len` created by `sdsnewlen`
/// (`sdsReqType`; type 5 is not used for empty strings).
#[inline]
pub fn sds_header(len: u64) -> u64 {
    match len {
        0 => 3,
        1..=31 => 1,
        32..=255 => 3,
        256..=65535 => 5,
        65536..=0xffff_ffff => 9,
        _ => 17,
    }
}

/// Bytes of an exact-size sds allocation holding `len` bytes.
#[inline]
pub fn sds_bytes(len: u64) -> u64 {
    size_class(sds_header(len) + len + 1)
}

/// `sizeof(robj)`.
pub const ROBJ: u64 = 16;
/// A `dictEntry` (24 B) as allocated.
pub const DICT_ENTRY: u64 = 32;
/// `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
pub const EMBSTR_LIMIT: u64 = 44;
/// `OBJ_SHARED_INTEGERS`.
pub const SHARED_INTEGERS: i64 = 10_000;

/// How Redis stores a string value (`OBJECT ENCODING`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// An integer held in the object pointer (`int`).
    Int,
    /// One of the shared integer objects 0..9999 (also reported as `int`).
    SharedInt,
    /// Object and sds in one allocation (`embstr`).
    Embstr,
    /// Object plus separate sds (`raw`).
    Raw,
}

impl Encoding {
    /// Chooses the encoding of a new string value of `len` bytes whose
    /// canonical integer value, if any, is `int`. `shared_ok` is false when
    /// maxmemory is set with an LRU/LFU policy.
    pub fn choose(len: u64, int: Option<i64>, shared_ok: bool) -> Encoding {
        match int {
            Some(v) if shared_ok && (0..SHARED_INTEGERS).contains(&v) => Encoding::SharedInt,
            Some(_) => Encoding::Int,
            None if len <= EMBSTR_LIMIT => Encoding::Embstr,
            None => Encoding::Raw,
        }
    }

    /// The name `OBJECT ENCODING` replies with.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Int | Encoding::SharedInt => "int",
            Encoding::Embstr => "embstr",
            Encoding::Raw => "raw",
        }
    }

    /// Bytes the value adds to `used_memory`.
    pub fn value_bytes(self, len: u64) -> u64 {
        match self {
            Encoding::SharedInt => 0,
            Encoding::Int => ROBJ,
            Encoding::Embstr => size_class(ROBJ + 3 + len + 1),
            Encoding::Raw => ROBJ + sds_bytes(len),
        }
    }
}

/// Bytes a key of `key_len` bytes costs in the main dict, excluding its value
/// and the bucket arrays.
#[inline]
pub fn key_bytes(key_len: u64) -> u64 {
    DICT_ENTRY + sds_bytes(key_len)
}

/// `used_memory_startup` of a fresh Debian redis-server 7.0.15 (jemalloc
/// 5.3.0), measured (tests/data/redis_baseline.txt).
pub const DEFAULT_BASELINE: u64 = 876_400;

/// What one connected client adds to `used_memory` on that server (its
/// struct, buffers and the first command's latency histogram): a fresh server
/// with one client reports 940,096 B (tests/data/redis_baseline.txt).
pub const ONE_CLIENT: u64 = 63_696;

/// Parses a memory size as Redis's config does (`memtoull`): a plain number
/// of bytes, or with a unit `b`, `k`, `kb`, `m`, `mb`, `g`, `gb` (k = 1000,
/// kb = 1024; case-insensitive).
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    if num.is_empty() {
        return None;
    }
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_classes() {
        let cases = [
            (1, 8),
            (9, 16),
            (24, 32),
            (33, 48),
            (100, 112),
            (128, 128),
            (129, 160),
            (160, 160),
            (161, 192),
            (257, 320),
            (513, 640),
            (1004, 1024),
            (1025, 1280),
        ];
        for (n, c) in cases {
            assert_eq!(size_class(n), c, "class of {n}");
        }
    }

    #[test]
    fn per_key_bytes_match_measured_redis() {
        // docs/redis-facts.md §5, measured at N = 100k on redis-server 7.0.15:
        // bytes per key minus 8 × 131072 / 100000 buckets.
        let bucket = 8.0 * 131072.0 / 100000.0;
        let key = key_bytes(12) as f64; // "key:%08d"
        let per = |len: u64, int: Option<i64>| {
            key + Encoding::choose(len, int, true).value_bytes(len) as f64 + bucket
        };
        assert!((per(10, None) - 90.49).abs() < 0.01);
        assert!((per(44, None) - 122.49).abs() < 0.01);
        assert!((per(45, None) - 138.49).abs() < 0.01);
        assert!((per(100, None) - 186.49).abs() < 0.01);
        assert!((per(1000, None) - 1098.49).abs() < 0.01);
        assert!((per(4, Some(1234)) - 58.49).abs() < 0.01);
        assert!((per(6, Some(123456)) - 74.49).abs() < 0.01);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("2MB"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("1g"), Some(1_000_000_000));
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("1x"), None);
    }
}
