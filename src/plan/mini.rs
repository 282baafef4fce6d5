//! The miniature's scale: which sample rate, how `maxmemory` shrinks with
//! it, and how its figures grow back to full size.
//!
//! Redis's memory is `fixed + Σ keys + tables`. The fixed part (the
//! baseline of a fresh server and the client buffers, see
//! `store::memory`) does not shrink with the key count, so a miniature at
//! rate `R` runs with `maxmemory_mini = fixed + R · (maxmemory − fixed)`,
//! and its `used_memory` reads back as `fixed + (used − fixed) / R`. The
//! hash tables (main and expires dicts) are powers of two sized by the key
//! count: `R` is a power of two, so the miniature's tables are exactly `R`
//! times the full ones and grow (and refuse to grow, `dictExpandAllowed`)
//! at the same fill. Counts and rates scale by `1/R`; ratios, lags and
//! per-key figures do not.

use crate::metrics::schema::Unit;
use crate::store::Config;

/// The largest power-of-two sample rate (at most 1) that still keeps at
/// least `min_keys` of `keys` keys.
pub fn choose_rate(keys: u64, min_keys: u64) -> f64 {
    let mut r = 1.0;
    while keys as f64 * r / 2.0 >= min_keys as f64 && r > 1.0 / 65536.0 {
        r /= 2.0;
    }
    r
}

/// Memory that does not scale with the keys: baseline and client buffers.
pub fn fixed_memory(cfg: &Config) -> u64 {
    cfg.baseline_memory + cfg.client_memory
}

/// The miniature's `maxmemory` for a full-size one (0 stays 0: no limit).
pub fn mini_maxmemory(full: u64, rate: f64, fixed: u64) -> u64 {
    if full == 0 || rate >= 1.0 {
        return full;
    }
    if full <= fixed {
        return full.max(1);
    }
    fixed + ((full - fixed) as f64 * rate).round().max(1.0) as u64
}

/// A miniature's figure at full size.
pub fn to_full(column: &str, unit: Unit, value: f64, rate: f64, fixed: u64) -> f64 {
    if rate >= 1.0 {
        return value;
    }
    match unit {
        Unit::Count | Unit::PerSecond => value / rate,
        Unit::Bytes if column.starts_with("used_memory") || column == "maxmemory" => {
            fixed as f64 + (value - fixed as f64).max(0.0) / rate
        }
        Unit::Bytes => value / rate,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_a_power_of_two_keeping_enough_keys() {
        assert_eq!(choose_rate(140_000, 4096), 1.0 / 32.0);
        assert_eq!(choose_rate(3000, 4096), 1.0);
        let fixed = 1_000_000;
        let m = mini_maxmemory(65_000_000, 1.0 / 64.0, fixed);
        assert_eq!(m, fixed + 1_000_000);
        assert_eq!(
            to_full("used_memory_peak", Unit::Bytes, m as f64, 1.0 / 64.0, fixed),
            65e6
        );
        assert_eq!(
            to_full("cache_evicted_keys", Unit::Count, 10.0, 0.5, fixed),
            20.0
        );
        assert_eq!(to_full("hit_ratio", Unit::Ratio, 0.5, 0.5, fixed), 0.5);
    }
}
