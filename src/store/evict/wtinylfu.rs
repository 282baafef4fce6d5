//! `w-tinylfu`: Window TinyLFU.
//!
//! Einziger, Friedman, Manes, "TinyLFU: a highly efficient cache admission
//! policy", ACM ToS 13(4), 2017, with the layout of Caffeine (Ben Manes),
//! which introduced the window:
//!
//! ```text
//! window:  LRU, 1 % of the capacity; every new key enters here
//! main:    segmented LRU, 99 %: probation (20 % of main) + protected (80 %)
//!          a probation hit moves to protected; protected overflow demotes
//!          its LRU key back to probation
//! evict:   while the window is over its share, its LRU key is a
//!          candidate: it joins probation if main has room, else it fights
//!          probation's LRU key (the victim): the candidate is admitted
//!          (victim evicted) if freq(candidate) > freq(victim); a candidate
//!          with freq ≤ 5 loses; above that it wins 1 time in 128 (Caffeine's
//!          defence against hash flooding); otherwise the candidate is evicted
//! freq:    count-min sketch of 4-bit counters, 4 rows (Caffeine's
//!          FrequencySketch), behind a doorkeeper Bloom filter (the TinyLFU
//!          paper): a key's first sighting only sets doorkeeper bits, so
//!          one-hit wonders never reach the sketch; estimate = sketch +
//!          doorkeeper bit. Aging: after 10 × W additions (W = the sketch's
//!          width) every counter is halved and the doorkeeper cleared.
//! ```
//!
//! Sizes are bytes (Caffeine's weighted mode). The sketch is keyed by key
//! id, so it remembers keys that left; its width follows the number of
//! resident keys (doubled, and reset, when they outgrow it, as Caffeine's
//! `ensureCapacity`). libCacheSim's test has no expected figures for it.

use super::list::{Links, List};
use super::{PolicyParams, ReferencePolicy, Registration};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "w-tinylfu",
    needs_future: false,
    make: |p| Box::new(WTinyLfu::new(p)),
};

/// Window share of the capacity.
pub const WINDOW_RATIO: f64 = 0.01;
/// Protected share of the main space.
pub const PROTECTED_RATIO: f64 = 0.80;

const WINDOW: u8 = 1;
const PROBATION: u8 = 2;
const PROTECTED: u8 = 3;

/// Caffeine's `FrequencySketch` plus a doorkeeper.
#[derive(Clone, Debug)]
struct Sketch {
    /// 16 four-bit counters per word.
    table: Vec<u64>,
    /// Doorkeeper bits.
    door: Vec<u64>,
    mask: u64,
    additions: u64,
    sample: u64,
}

const SEEDS: [u64; 4] = [
    0xc3a5_c85c_97cb_3127,
    0xb492_b66f_be98_f273,
    0x9ae1_6a3b_2f90_404f,
    0xcbf2_9ce4_8422_2325,
];

fn mix(x: u64, seed: u64) -> u64 {
    let mut z = x.wrapping_add(seed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Sketch {
    fn new(width: usize) -> Sketch {
        let w = width.next_power_of_two().max(64);
        Sketch {
            table: vec![0; w / 16 * 4],
            door: vec![0; w / 64 * 2],
            mask: (w - 1) as u64,
            additions: 0,
            sample: 10 * w as u64,
        }
    }

    fn width(&self) -> usize {
        self.mask as usize + 1
    }

    /// Counter `row` of `key`: (word, shift).
    #[inline]
    fn at(&self, key: u64, row: usize) -> (usize, u32) {
        let idx = mix(key, SEEDS[row]) & self.mask;
        let words_per_row = self.width() / 16;
        (
            row * words_per_row + (idx / 16) as usize,
            ((idx % 16) * 4) as u32,
        )
    }

    #[inline]
    fn door_bits(&self, key: u64) -> [(usize, u64); 2] {
        let bits = self.door.len() as u64 * 64;
        let a = mix(key, SEEDS[0] ^ 1) % bits;
        let b = mix(key, SEEDS[1] ^ 1) % bits;
        [
            ((a / 64) as usize, 1 << (a % 64)),
            ((b / 64) as usize, 1 << (b % 64)),
        ]
    }

    fn in_door(&self, key: u64) -> bool {
        self.door_bits(key)
            .iter()
            .all(|&(w, m)| self.door[w] & m != 0)
    }

    fn frequency(&self, key: u64) -> u32 {
        let mut f = 15u32;
        for row in 0..4 {
            let (w, s) = self.at(key, row);
            f = f.min(((self.table[w] >> s) & 15) as u32);
        }
        f + self.in_door(key) as u32
    }

    fn increment(&mut self, key: u64) {
        if !self.in_door(key) {
            for (w, m) in self.door_bits(key) {
                self.door[w] |= m;
            }
        } else {
            for row in 0..4 {
                let (w, s) = self.at(key, row);
                if (self.table[w] >> s) & 15 < 15 {
                    self.table[w] += 1 << s;
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.sample {
            for w in &mut self.table {
                *w = (*w >> 1) & 0x7777_7777_7777_7777;
            }
            self.door.iter_mut().for_each(|w| *w = 0);
            self.additions /= 2;
        }
    }

    fn bytes(&self) -> u64 {
        ((self.table.len() + self.door.len()) * 8) as u64
    }
}

/// W-TinyLFU over slots.
#[derive(Clone, Debug)]
pub struct WTinyLfu {
    links: Links,
    window: List,
    probation: List,
    protected: List,
    size: Vec<u64>,
    key: Vec<u64>,
    window_bytes: u64,
    probation_bytes: u64,
    protected_bytes: u64,
    window_cap: u64,
    main_cap: u64,
    protected_cap: u64,
    sketch: Sketch,
    rng: Pcg64Mcg,
}

impl WTinyLfu {
    /// An empty W-TinyLFU for `params.capacity` bytes.
    pub fn new(params: &PolicyParams) -> WTinyLfu {
        let mut w = WTinyLfu {
            links: Links::default(),
            window: List::new(WINDOW),
            probation: List::new(PROBATION),
            protected: List::new(PROTECTED),
            size: Vec::new(),
            key: Vec::new(),
            window_bytes: 0,
            probation_bytes: 0,
            protected_bytes: 0,
            window_cap: 0,
            main_cap: 0,
            protected_cap: 0,
            sketch: Sketch::new(64),
            rng: Pcg64Mcg::seed_from_u64(params.seed ^ 0x7769_6e79),
        };
        w.set_capacity(params.capacity);
        w
    }

    fn ensure(&mut self, slot: u32) {
        let need = slot as usize + 1;
        if self.size.len() < need {
            let n = need.max(self.size.len() * 2).max(64);
            self.size.resize(n, 0);
            self.key.resize(n, 0);
        }
    }

    fn main_bytes(&self) -> u64 {
        self.probation_bytes + self.protected_bytes
    }

    fn unlink(&mut self, slot: u32) -> bool {
        let s = self.size.get(slot as usize).copied().unwrap_or(0);
        match self.links.owner(slot) {
            WINDOW => {
                self.window.unlink(&mut self.links, slot);
                self.window_bytes -= s;
            }
            PROBATION => {
                self.probation.unlink(&mut self.links, slot);
                self.probation_bytes -= s;
            }
            PROTECTED => {
                self.protected.unlink(&mut self.links, slot);
                self.protected_bytes -= s;
            }
            _ => return false,
        }
        true
    }

    fn join_probation(&mut self, slot: u32) {
        self.probation.push_back(&mut self.links, slot);
        self.probation_bytes += self.size[slot as usize];
    }

    /// TinyLFU's admission test (with Caffeine's random tie-break).
    fn admit(&mut self, candidate: u32, victim: u32) -> bool {
        let fc = self.sketch.frequency(self.key[candidate as usize]);
        let fv = self.sketch.frequency(self.key[victim as usize]);
        if fc > fv {
            true
        } else if fc <= 5 {
            false
        } else {
            self.rng.gen_range(0..128) == 0
        }
    }

    /// Caffeine's `evictFromWindow` while main has room: window overflow
    /// joins probation; what does not fit waits for [`ReferencePolicy::evict`].
    fn drain_window(&mut self) {
        while self.window_bytes > self.window_cap {
            let Some(c) = self.window.front() else {
                break;
            };
            if self.main_bytes() + self.size[c as usize] > self.main_cap {
                break;
            }
            self.unlink(c);
            self.join_probation(c);
        }
    }

    /// Main's LRU key: probation's, else protected's.
    fn main_victim(&self) -> Option<u32> {
        self.probation.front().or(self.protected.front())
    }
}

impl ReferencePolicy for WTinyLfu {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, key: u64, size: u64) {
        self.unlink(slot);
        self.ensure(slot);
        self.size[slot as usize] = size;
        self.key[slot as usize] = key;
        self.window.push_back(&mut self.links, slot);
        self.window_bytes += size;
        if self.len() > self.sketch.width() {
            self.sketch = Sketch::new(self.len() * 2);
        }
        self.sketch.increment(key);
        self.drain_window();
    }
    fn access(&mut self, slot: u32) {
        let i = slot as usize;
        match self.links.owner(slot) {
            WINDOW => self.window.move_to_back(&mut self.links, slot),
            PROBATION => {
                self.unlink(slot);
                self.protected.push_back(&mut self.links, slot);
                self.protected_bytes += self.size[i];
                while self.protected_bytes > self.protected_cap {
                    let Some(d) = self.protected.pop_front(&mut self.links) else {
                        break;
                    };
                    self.protected_bytes -= self.size[d as usize];
                    self.join_probation(d);
                }
            }
            PROTECTED => self.protected.move_to_back(&mut self.links, slot),
            _ => return,
        }
        self.sketch.increment(self.key[i]);
    }
    fn resize(&mut self, slot: u32, size: u64) {
        let i = slot as usize;
        match self.links.owner(slot) {
            WINDOW => self.window_bytes = self.window_bytes - self.size[i] + size,
            PROBATION => self.probation_bytes = self.probation_bytes - self.size[i] + size,
            PROTECTED => self.protected_bytes = self.protected_bytes - self.size[i] + size,
            _ => return,
        }
        self.size[i] = size;
    }
    fn remove(&mut self, slot: u32) {
        self.unlink(slot);
    }
    fn evict(&mut self) -> Option<u32> {
        // The window's overflow fights for a place in main.
        while self.window_bytes > self.window_cap {
            let candidate = self.window.front()?;
            self.unlink(candidate);
            if self.main_bytes() + self.size[candidate as usize] <= self.main_cap {
                self.join_probation(candidate);
                continue;
            }
            let Some(victim) = self.main_victim() else {
                return Some(candidate);
            };
            if self.admit(candidate, victim) {
                self.unlink(victim);
                self.join_probation(candidate);
                return Some(victim);
            }
            return Some(candidate);
        }
        let victim = self.main_victim().or(self.window.front())?;
        self.unlink(victim);
        Some(victim)
    }
    fn clear(&mut self) {
        self.links.clear();
        self.window.reset();
        self.probation.reset();
        self.protected.reset();
        self.window_bytes = 0;
        self.probation_bytes = 0;
        self.protected_bytes = 0;
        self.sketch = Sketch::new(64);
    }
    fn set_capacity(&mut self, bytes: u64) {
        self.window_cap = (bytes as f64 * WINDOW_RATIO) as u64;
        self.main_cap = bytes - self.window_cap;
        self.protected_cap = (self.main_cap as f64 * PROTECTED_RATIO) as u64;
    }
    fn len(&self) -> usize {
        self.window.len() + self.probation.len() + self.protected.len()
    }
    fn overhead_bytes(&self) -> u64 {
        self.links.bytes() + (self.size.capacity() * 16) as u64 + self.sketch.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1000 bytes: window 10, main 990 (protected 792).
    fn w() -> WTinyLfu {
        WTinyLfu::new(&PolicyParams {
            capacity: 1000,
            seed: 1,
        })
    }

    #[test]
    fn the_door_keeps_one_hit_wonders_out_and_lets_repeat_keys_in() {
        let mut p = w();
        p.insert(0, 1, 500);
        p.insert(1, 2, 400);
        assert_eq!(
            p.links.owner(0),
            PROBATION,
            "window overflow joins main while it has room"
        );
        for _ in 0..8 {
            p.access(0);
        }
        assert_eq!(p.links.owner(0), PROTECTED);
        p.insert(2, 3, 80); // main: 980 of 990
        p.insert(3, 4, 20); // does not fit main: waits in the window
        assert_eq!(p.links.owner(3), WINDOW);
        // Candidate key 4 (seen once) vs probation's LRU, key 2 (seen once):
        // not more frequent, so the candidate goes.
        assert_eq!(p.evict(), Some(3));
        // Key 4 again: now seen twice, it beats key 2.
        p.insert(3, 4, 20);
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.links.owner(3), PROBATION);
        assert_eq!(p.links.owner(0), PROTECTED);
    }

    #[test]
    fn the_sketch_counts_after_the_doorkeeper_and_ages() {
        let mut s = Sketch::new(64);
        assert_eq!(s.frequency(42), 0);
        s.increment(42);
        assert_eq!(s.frequency(42), 1, "the doorkeeper bit");
        for _ in 0..20 {
            s.increment(42);
        }
        assert_eq!(s.frequency(42), 16, "15 (saturated) + doorkeeper");
        for k in 0..10 * 64 {
            s.increment(1000 + k);
        }
        assert!(s.frequency(42) <= 8, "halved by aging: {}", s.frequency(42));
    }
}
