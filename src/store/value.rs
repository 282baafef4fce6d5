//! Value payloads. The store is generic over what a value carries: the
//! simulator needs only a size and, for counters, an integer ([`SimValue`]);
//! the shell needs the bytes themselves (`Vec<u8>`). Both give the store what
//! Redis's encoding decision needs: the length and the canonical integer.

/// What the store needs to know about a string value.
pub trait Payload: Clone {
    /// Length of the string in bytes.
    fn len(&self) -> u64;
    /// True for the empty string.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value as Redis's `string2ll` reads it: only a canonical integer
    /// (no leading zeros or `+`, at most 20 characters) counts.
    fn as_int(&self) -> Option<i64>;
    /// The string Redis stores after INCR: the decimal form of `v`.
    fn from_int(v: i64) -> Self;
}

/// A value in the simulator: a blob of a given size, or an integer counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimValue {
    /// A non-integer string of this many bytes.
    Blob(u32),
    /// An integer (stored by Redis as INT or a shared integer).
    Int(i64),
}

/// Number of characters of `v` in decimal.
///
/// From the bit length (`log10(2)` ~ 1233/4096 gives the digits or one
/// fewer) and one comparison with a power of ten: a replay asks this for
/// every numeric key, and `ilog10`'s chain of comparisons cost ~20
/// instructions a key.
#[inline]
pub fn decimal_len(v: i64) -> u64 {
    const POW10: [u64; 20] = {
        let mut t = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            t[i] = t[i - 1] * 10;
            i += 1;
        }
        t
    };
    let x = v.unsigned_abs();
    let log2 = 63 - (x | 1).leading_zeros() as usize;
    let guess = (log2 * 1233) >> 12;
    (guess + 1) as u64 + u64::from(x >= POW10[guess + 1]) + u64::from(v < 0)
}

impl Payload for SimValue {
    fn len(&self) -> u64 {
        match *self {
            SimValue::Blob(n) => n as u64,
            SimValue::Int(v) => decimal_len(v),
        }
    }
    fn as_int(&self) -> Option<i64> {
        match *self {
            SimValue::Blob(_) => None,
            SimValue::Int(v) => Some(v),
        }
    }
    fn from_int(v: i64) -> Self {
        SimValue::Int(v)
    }
}

/// Redis's `string2ll`: strict canonical decimal, fits in i64.
pub fn parse_canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        let d = (d - b'0') as i64;
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

impl Payload for Vec<u8> {
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
    fn as_int(&self) -> Option<i64> {
        parse_canonical_int(self)
    }
    fn from_int(v: i64) -> Self {
        v.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_only() {
        assert_eq!(parse_canonical_int(b"0"), Some(0));
        assert_eq!(parse_canonical_int(b"-12"), Some(-12));
        assert_eq!(parse_canonical_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_int(b"9223372036854775808"), None);
        assert_eq!(parse_canonical_int(b"007"), None);
        assert_eq!(parse_canonical_int(b"+1"), None);
        assert_eq!(parse_canonical_int(b"-0"), None);
        assert_eq!(parse_canonical_int(b" 1"), None);
        assert_eq!(parse_canonical_int(b""), None);
    }

    #[test]
    fn decimal_lengths() {
        assert_eq!(decimal_len(0), 1);
        assert_eq!(decimal_len(-5), 2);
        assert_eq!(decimal_len(10000), 5);
        assert_eq!(decimal_len(i64::MIN), 20);
        // Every bit length's ends, where the estimate from it changes.
        for k in 0..63 {
            let b = 1i64 << k;
            for v in [b - 1, b, b + 1, -b, -b + 1] {
                assert_eq!(decimal_len(v), v.to_string().len() as u64, "{v}");
            }
        }
        // Every power of ten and its neighbours, both signs, as printed.
        let mut p = 1i64;
        loop {
            for v in [
                p - 1,
                p,
                p + 1,
                -(p - 1),
                -p,
                -p - 1,
                i64::MAX,
                i64::MIN + 1,
            ] {
                assert_eq!(decimal_len(v), v.to_string().len() as u64, "{v}");
            }
            match p.checked_mul(10) {
                Some(q) => p = q,
                None => break,
            }
        }
    }
}
