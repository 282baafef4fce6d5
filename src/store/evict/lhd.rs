//! `lhd`: Least Hit Density.
//!
//! Beckmann, Chen, Cidon, "LHD: improving cache hit rate by maximizing hit
//! density", NSDI 2018. Each key's *hit density* is its expected hits per
//! byte per unit of time it will spend in the cache, estimated from the ages
//! at which keys of its class were hit or evicted; the victim is the key of
//! least hit density among a random sample. A port of the implementation
//! libCacheSim ships (`LHD/lhd.cpp`, by the paper's authors, wired in by
//! `LHD_Interface.cpp`), with its constants:
//!
//! * ages count updates (inserts and hits), coarsened by a shift (10 at
//!   first, re-tuned at the 5th and 25th reconfiguration), capped at 20,000;
//! * a key's class is `log2`-like in the sum of its last two hit ages
//!   (16 classes; one application);
//! * every 2^20 updates, each class's hit and eviction histograms decay by
//!   0.9 and its hit densities are recomputed; until then the densities are
//!   the initial `(class + 1) / (age + 1)` (GDSF-like);
//! * `rank` samples 8 keys (32 after 50 reconfigurations) plus the last 8
//!   admitted keys whose density fell below the running mean of victims', and
//!   takes the least dense (density divided by size; explorers, 1 in 32
//!   inserts while 1 % of the capacity allows, get +1).
//!
//! The random stream differs from libCacheSim's, so victims differ sample by
//! sample; miss counts agree within about 1 % (tests/policy_cloudphysics.rs).
//! Only the classes of the one application are allocated (libCacheSim
//! allocates 16 × 16 and uses 16 of them): 16 × 20,000 × 3 floats, 3.8 MB of
//! simulator memory per store.

use super::list::NONE;
use super::{PolicyParams, ReferencePolicy, Registration};
use rand::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "lhd",
    needs_future: false,
    make: |p| Box::new(Lhd::new(p)),
};

type Rank = f32;

const ASSOCIATIVITY: u32 = 32;
const ADMISSIONS: usize = 8;
const EXPLORER_BUDGET_FRACTION: Rank = 0.01;
const EXPLORE_INVERSE_PROBABILITY: u64 = 32;
const HIT_AGE_CLASSES: usize = 16;
/// `DEFAULT_APP_ID % APP_CLASSES`: the one application's class row.
const APP: usize = 1;
const AGE_COARSENING_ERROR_TOLERANCE: Rank = 0.01;
const MAX_AGE: u64 = 20_000;
const ACCS_PER_RECONFIGURATION: u64 = 1 << 20;
const EWMA_DECAY: Rank = 0.9;

#[derive(Clone, Copy, Debug)]
struct Tag {
    timestamp: u64,
    last_hit_age: u64,
    last_last_hit_age: u64,
    slot: u32,
    key: u64,
    size: Rank,
    explorer: bool,
}

#[derive(Clone, Debug)]
struct Class {
    hits: Vec<Rank>,
    evictions: Vec<Rank>,
    total_hits: Rank,
    total_evictions: Rank,
    hit_densities: Vec<Rank>,
}

/// LHD over slots.
#[derive(Clone, Debug)]
pub struct Lhd {
    tags: Vec<Tag>,
    /// Tag index per slot, or [`NONE`].
    index: Vec<u32>,
    classes: Vec<Class>,
    timestamp: u64,
    next_reconfiguration: u64,
    num_reconfigurations: u32,
    age_coarsening_shift: u32,
    ewma_num_objects: Rank,
    ewma_num_objects_mass: Rank,
    overflows: u64,
    /// (slot, key) of recently admitted keys that looked like victims.
    recently_admitted: [(u32, u64); ADMISSIONS],
    recently_admitted_head: usize,
    ewma_victim_hit_density: Rank,
    explorer_budget: i64,
    rng: Pcg64Mcg,
}

impl Lhd {
    /// An empty LHD for `params.capacity` bytes.
    pub fn new(params: &PolicyParams) -> Lhd {
        let classes = (0..HIT_AGE_CLASSES)
            .map(|h| {
                // Initial policy ~GDSF: density (c + 1) / (a + 1), c the
                // class index in libCacheSim's 16 × 16 table.
                let c = (APP * HIT_AGE_CLASSES + h) as Rank;
                Class {
                    hits: vec![0.0; MAX_AGE as usize],
                    evictions: vec![0.0; MAX_AGE as usize],
                    total_hits: 0.0,
                    total_evictions: 0.0,
                    hit_densities: (0..MAX_AGE)
                        .map(|a| (c + 1.0) / (a as Rank + 1.0))
                        .collect(),
                }
            })
            .collect();
        Lhd {
            tags: Vec::new(),
            index: Vec::new(),
            classes,
            timestamp: 0,
            next_reconfiguration: ACCS_PER_RECONFIGURATION,
            num_reconfigurations: 0,
            age_coarsening_shift: 10,
            ewma_num_objects: 0.0,
            ewma_num_objects_mass: 0.0,
            overflows: 0,
            recently_admitted: [(NONE, 0); ADMISSIONS],
            recently_admitted_head: 0,
            ewma_victim_hit_density: 0.0,
            explorer_budget: (params.capacity as Rank * EXPLORER_BUDGET_FRACTION) as i64,
            rng: Pcg64Mcg::seed_from_u64(params.seed ^ 0x006c_6864),
        }
    }

    fn hit_age_class(mut age: u64) -> usize {
        if age == 0 {
            return HIT_AGE_CLASSES - 1;
        }
        let mut log = 0;
        while age < MAX_AGE && log < HIT_AGE_CLASSES - 1 {
            age <<= 1;
            log += 1;
        }
        log
    }

    #[inline]
    fn class_of(tag: &Tag) -> usize {
        Self::hit_age_class(tag.last_hit_age + tag.last_last_hit_age)
    }

    #[inline]
    fn age(&mut self, tag: &Tag) -> u64 {
        let age = (self.timestamp - tag.timestamp) >> self.age_coarsening_shift;
        if age >= MAX_AGE {
            self.overflows += 1;
            MAX_AGE - 1
        } else {
            age
        }
    }

    fn hit_density(&mut self, tag: &Tag) -> Rank {
        let age = self.age(tag);
        if age == MAX_AGE - 1 {
            return Rank::MIN;
        }
        let cl = &self.classes[Self::class_of(tag)];
        let mut density = cl.hit_densities[age as usize] / tag.size;
        if tag.explorer {
            density += 1.0;
        }
        density
    }

    fn tag_of(&self, slot: u32) -> Option<usize> {
        match self.index.get(slot as usize) {
            Some(&i) if i != NONE => Some(i as usize),
            _ => None,
        }
    }

    /// `LHD::update`: an insert (`fresh`) or a hit.
    fn update(&mut self, slot: u32, key: u64, size: u64, fresh: bool) {
        let ti = match (fresh, self.tag_of(slot)) {
            (false, Some(ti)) => {
                let tag = self.tags[ti];
                let age = self.age(&tag);
                self.classes[Self::class_of(&tag)].hits[age as usize] += 1.0;
                if tag.explorer {
                    self.explorer_budget += tag.size as i64;
                }
                let t = &mut self.tags[ti];
                t.last_last_hit_age = t.last_hit_age;
                t.last_hit_age = age;
                ti
            }
            (false, None) => return,
            (true, _) => {
                self.tags.push(Tag {
                    timestamp: 0,
                    last_hit_age: 0,
                    last_last_hit_age: MAX_AGE,
                    slot,
                    key,
                    size: 0.0,
                    explorer: false,
                });
                let ti = self.tags.len() - 1;
                self.index[slot as usize] = ti as u32;
                ti
            }
        };
        let explore = self
            .rng
            .next_u64()
            .is_multiple_of(EXPLORE_INVERSE_PROBABILITY);
        {
            let budget_ok = self.explorer_budget > 0 && self.num_reconfigurations < 50;
            let t = &mut self.tags[ti];
            t.timestamp = self.timestamp;
            t.size = size as Rank;
            if explore && budget_ok {
                t.explorer = true;
                self.explorer_budget -= t.size as i64;
            } else {
                t.explorer = false;
            }
        }
        if fresh && !explore {
            let tag = self.tags[ti];
            if self.hit_density(&tag) < self.ewma_victim_hit_density {
                self.recently_admitted[self.recently_admitted_head % ADMISSIONS] = (slot, key);
                self.recently_admitted_head += 1;
            }
        }
        self.timestamp += 1;
        self.next_reconfiguration -= 1;
        if self.next_reconfiguration == 0 {
            self.reconfigure();
            self.next_reconfiguration = ACCS_PER_RECONFIGURATION;
            self.num_reconfigurations += 1;
        }
    }

    /// `LHD::rank`: the tag index of the victim.
    fn rank(&mut self) -> Option<usize> {
        if self.tags.is_empty() {
            return None;
        }
        let mut victim = None;
        let mut victim_rank = Rank::MAX;
        let candidates = if self.num_reconfigurations > 50 {
            ASSOCIATIVITY
        } else {
            8
        };
        for _ in 0..candidates {
            let idx = (self.rng.next_u64() % self.tags.len() as u64) as usize;
            let tag = self.tags[idx];
            let rank = self.hit_density(&tag);
            if rank < victim_rank {
                victim = Some(idx);
                victim_rank = rank;
            }
        }
        for i in 0..ADMISSIONS {
            let (slot, key) = self.recently_admitted[i];
            let Some(idx) = self.tag_of(slot) else {
                continue;
            };
            let tag = self.tags[idx];
            if tag.key != key {
                continue;
            }
            let rank = self.hit_density(&tag);
            if rank < victim_rank {
                victim = Some(idx);
                victim_rank = rank;
            }
        }
        // All densities NaN (zero-sized keys): take the first sample's pick.
        let victim = victim.unwrap_or(0);
        self.ewma_victim_hit_density =
            EWMA_DECAY * self.ewma_victim_hit_density + (1.0 - EWMA_DECAY) * victim_rank;
        Some(victim)
    }

    /// Drops tag `ti` (swap-remove, as `LHD::replaced` / `LHD_remove`).
    fn drop_tag(&mut self, ti: usize) {
        let slot = self.tags[ti].slot;
        self.index[slot as usize] = NONE;
        self.tags.swap_remove(ti);
        if ti < self.tags.len() {
            let moved = self.tags[ti].slot;
            self.index[moved as usize] = ti as u32;
        }
    }

    fn reconfigure(&mut self) {
        for cl in &mut self.classes {
            cl.total_hits = 0.0;
            cl.total_evictions = 0.0;
            for age in 0..MAX_AGE as usize {
                cl.hits[age] *= EWMA_DECAY;
                cl.evictions[age] *= EWMA_DECAY;
                cl.total_hits += cl.hits[age];
                cl.total_evictions += cl.evictions[age];
            }
        }
        self.adapt_age_coarsening();
        self.model_hit_density();
        self.overflows = 0;
    }

    fn model_hit_density(&mut self) {
        let last = MAX_AGE as usize - 1;
        for cl in &mut self.classes {
            let mut total_events = cl.hits[last] + cl.evictions[last];
            let mut total_hits = cl.hits[last];
            let mut lifetime_unconditioned = total_events;
            for a in (0..last).rev() {
                total_hits += cl.hits[a];
                total_events += cl.hits[a] + cl.evictions[a];
                lifetime_unconditioned += total_events;
                cl.hit_densities[a] = if total_events > 1e-5 {
                    total_hits / lifetime_unconditioned
                } else {
                    0.0
                };
            }
        }
    }

    fn adapt_age_coarsening(&mut self) {
        self.ewma_num_objects *= EWMA_DECAY;
        self.ewma_num_objects_mass *= EWMA_DECAY;
        self.ewma_num_objects += self.tags.len() as Rank;
        self.ewma_num_objects_mass += 1.0;
        let num_objects = self.ewma_num_objects / self.ewma_num_objects_mass;
        let optimal = num_objects / (AGE_COARSENING_ERROR_TOLERANCE * MAX_AGE as Rank);
        if self.num_reconfigurations != 5 && self.num_reconfigurations != 25 {
            return;
        }
        let mut log2 = 1u32;
        while log2 < 63 && ((1u64 << log2) as Rank) < optimal {
            log2 += 1;
        }
        let delta = log2 as i64 - self.age_coarsening_shift as i64;
        self.age_coarsening_shift = log2;
        self.ewma_num_objects *= 8.0;
        self.ewma_num_objects_mass *= 8.0;
        let max = MAX_AGE as usize;
        if delta < 0 {
            // Stretch.
            let d = (-delta).min(31) as u32;
            for cl in &mut self.classes {
                for a in (max >> d)..max - 1 {
                    cl.hits[max - 1] += cl.hits[a];
                    cl.evictions[max - 1] += cl.evictions[a];
                }
                for a in (0..max - 1).rev() {
                    cl.hits[a] = cl.hits[a >> d] / (1u64 << d) as Rank;
                    cl.evictions[a] = cl.evictions[a >> d] / (1u64 << d) as Rank;
                }
            }
        } else if delta > 0 {
            // Compress.
            let d = delta.min(31) as u32;
            for cl in &mut self.classes {
                for a in 0..max >> d {
                    let base = a << d;
                    cl.hits[a] = cl.hits[base];
                    cl.evictions[a] = cl.evictions[base];
                    for i in 1..(1usize << d) {
                        if base + i < max {
                            cl.hits[a] += cl.hits[base + i];
                            cl.evictions[a] += cl.evictions[base + i];
                        }
                    }
                }
                for a in (max >> d)..max - 1 {
                    cl.hits[a] = 0.0;
                    cl.evictions[a] = 0.0;
                }
            }
        }
    }
}

impl ReferencePolicy for Lhd {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, key: u64, size: u64) {
        self.remove(slot);
        let need = slot as usize + 1;
        if self.index.len() < need {
            let n = need.max(self.index.len() * 2).max(64);
            self.index.resize(n, NONE);
        }
        self.update(slot, key, size, true);
    }
    fn access(&mut self, slot: u32) {
        if let Some(ti) = self.tag_of(slot) {
            let (key, size) = (self.tags[ti].key, self.tags[ti].size as u64);
            self.update(slot, key, size, false);
        }
    }
    fn resize(&mut self, slot: u32, size: u64) {
        if let Some(ti) = self.tag_of(slot) {
            self.tags[ti].size = size as Rank;
        }
    }
    fn remove(&mut self, slot: u32) {
        if let Some(ti) = self.tag_of(slot) {
            self.drop_tag(ti);
        }
    }
    fn evict(&mut self) -> Option<u32> {
        let ti = self.rank()?;
        // `LHD::replaced`: record the eviction age before dropping the tag.
        let tag = self.tags[ti];
        let age = self.age(&tag);
        self.classes[Self::class_of(&tag)].evictions[age as usize] += 1.0;
        if tag.explorer {
            self.explorer_budget += tag.size as i64;
        }
        self.drop_tag(ti);
        Some(tag.slot)
    }
    fn clear(&mut self) {
        for t in &self.tags {
            self.index[t.slot as usize] = NONE;
        }
        self.tags.clear();
        self.recently_admitted = [(NONE, 0); ADMISSIONS];
    }
    fn len(&self) -> usize {
        self.tags.len()
    }
    fn overhead_bytes(&self) -> u64 {
        let classes = self.classes.len() * MAX_AGE as usize * 3 * std::mem::size_of::<Rank>();
        (classes + self.tags.capacity() * std::mem::size_of::<Tag>() + self.index.capacity() * 4)
            as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lhd() -> Lhd {
        Lhd::new(&PolicyParams {
            capacity: 1 << 30,
            seed: 3,
        })
    }

    #[test]
    fn hit_age_classes_are_log_like() {
        assert_eq!(Lhd::hit_age_class(0), 15);
        assert_eq!(Lhd::hit_age_class(MAX_AGE), 0);
        assert_eq!(Lhd::hit_age_class(MAX_AGE / 2), 1);
        assert_eq!(Lhd::hit_age_class(1), 15);
    }

    #[test]
    fn with_two_keys_the_larger_and_older_one_is_the_victim() {
        // With two keys the seeded samples see both; density is
        // (class + 1) / (age + 1) / size, so the large, never-hit key loses.
        let mut p = lhd();
        p.insert(0, 10, 1_000_000);
        p.insert(1, 11, 10);
        p.access(1);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.evict(), None);
    }

    #[test]
    fn removal_keeps_the_index_consistent() {
        let mut p = lhd();
        for s in 0..100 {
            p.insert(s, s as u64, 1 + s as u64);
        }
        for s in (0..100).step_by(2) {
            p.remove(s);
        }
        for (i, t) in p.tags.iter().enumerate() {
            assert_eq!(p.index[t.slot as usize] as usize, i);
        }
        let mut seen = 0;
        while let Some(s) = p.evict() {
            assert_eq!(s % 2, 1);
            seen += 1;
        }
        assert_eq!(seen, 50);
    }
}
