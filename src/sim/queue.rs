//! The event queue: events pop in (time, class, sequence number) order.
//!
//! Client events come before metric samples at equal times (the server
//! cron, which the event loop keeps beside the queue, runs between the
//! two); within a class, events at the same time pop in
//! the order they were scheduled. The order therefore never depends on how
//! the events got into the queue, which is what lets a recorded trace replay
//! exactly; and as the order is total, any layout that pops the least key
//! pops the same sequence.
//!
//! The layout is a calendar. Only events before `horizon` sit in a binary
//! heap (`near`); later ones wait unsorted in a ring of time buckets
//! ([`BUCKET_US`] wide, [`BUCKETS`] of them), and those beyond the ring in a
//! second heap. When `near` runs dry the next occupied bucket moves in
//! whole. A workload with tens of thousands of pending timers (sessions,
//! token redemptions) thus keeps a heap of the current bucket's few events
//! instead of all of them.
//!
//! A front slot holds the earliest event outside the heap: a replay
//! schedules its next record, which is usually earlier than every
//! sample, so most events never enter the heap at all.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::store::Micros;

/// Event classes, in the order they run at equal times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// A client's request (or its timer).
    Client = 0,
    /// A metrics sample.
    Sample = 2,
}

/// One scheduled event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    /// Simulated time (µs since the Unix epoch).
    pub time: Micros,
    /// Class (tie-break before `seq`).
    pub class: Class,
    /// Scheduling order.
    pub seq: u64,
    /// Index of the client that owns it (clients only).
    pub src: u32,
    /// The client's own payload (a user, a token, a phase).
    pub token: u64,
}

/// Width of a calendar bucket in µs (65.5 ms).
pub const BUCKET_US: u64 = 1 << 16;
/// Buckets in the ring (together 268 s ahead of the horizon).
pub const BUCKETS: usize = 4096;
const SAMPLE_BIT: u64 = 1 << 63;

/// An event as the queue keeps it: its order packed into one `u128`
/// (time, then class, then sequence number), compared in one step. Keys
/// are unique (the sequence number is), so they alone order and equate.
#[derive(Clone, Copy, Debug)]
struct Slot {
    key: u128,
    token: u64,
    src: u32,
}

impl PartialEq for Slot {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Slot {}

impl PartialOrd for Slot {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }

    #[inline]
    fn lt(&self, other: &Self) -> bool {
        self.key < other.key
    }

    #[inline]
    fn le(&self, other: &Self) -> bool {
        self.key <= other.key
    }
}

impl Ord for Slot {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl Slot {
    #[inline]
    fn new(e: &Event) -> Slot {
        let class = if e.class == Class::Sample {
            SAMPLE_BIT
        } else {
            0
        };
        debug_assert!(e.seq < SAMPLE_BIT);
        Slot {
            key: (u128::from(e.time) << 64) | u128::from(class | e.seq),
            token: e.token,
            src: e.src,
        }
    }

    #[inline]
    fn time(&self) -> Micros {
        (self.key >> 64) as u64
    }

    #[inline]
    fn event(&self) -> Event {
        let low = self.key as u64;
        Event {
            time: self.time(),
            class: if low & SAMPLE_BIT != 0 {
                Class::Sample
            } else {
                Class::Client
            },
            seq: low & !SAMPLE_BIT,
            src: self.src,
            token: self.token,
        }
    }
}

/// The queue.
pub struct EventQueue {
    /// An event earlier than every other queued event, if any.
    front: Option<Slot>,
    /// Events before `horizon`.
    near: BinaryHeap<Reverse<Slot>>,
    /// Bucket number of `horizon`: buckets `cur..cur + BUCKETS` are in the
    /// ring, at index `b % BUCKETS`.
    cur: u64,
    ring: Vec<Vec<Slot>>,
    /// Bit `i` set when `ring[i]` is not empty.
    occupied: Vec<u64>,
    in_ring: usize,
    /// Events at or after bucket `cur + BUCKETS`.
    beyond: BinaryHeap<Reverse<Slot>>,
    seq: u64,
    clients: usize,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            front: None,
            near: BinaryHeap::new(),
            cur: 0,
            ring: vec![Vec::new(); BUCKETS],
            occupied: vec![0; BUCKETS / 64],
            in_ring: 0,
            beyond: BinaryHeap::new(),
            seq: 0,
            clients: 0,
        }
    }
}

impl EventQueue {
    /// Schedules an event.
    #[inline]
    pub fn push(&mut self, time: Micros, class: Class, src: u32, token: u64) {
        self.seq += 1;
        if class == Class::Client {
            self.clients += 1;
        }
        let e = Slot::new(&Event {
            time,
            class,
            seq: self.seq,
            src,
            token,
        });
        match self.front {
            Some(f) if e < f => {
                self.front = Some(e);
                self.file(f);
            }
            Some(_) => self.file(e),
            // Earlier than the heap's least, and than the horizon (where
            // the buckets start) unless they are empty.
            None if (e.time() / BUCKET_US < self.cur || self.in_ring + self.beyond.len() == 0)
                && self.near.peek().is_none_or(|h| e < h.0) =>
            {
                self.front = Some(e)
            }
            None => self.file(e),
        }
    }

    /// Puts `e` where its time belongs: the heap, a bucket or beyond.
    #[inline]
    fn file(&mut self, e: Slot) {
        let b = e.time() / BUCKET_US;
        if b < self.cur {
            self.near.push(Reverse(e));
        } else if b < self.cur + BUCKETS as u64 {
            let i = (b % BUCKETS as u64) as usize;
            self.ring[i].push(e);
            self.occupied[i / 64] |= 1 << (i % 64);
            self.in_ring += 1;
        } else {
            self.beyond.push(Reverse(e));
        }
    }

    /// The earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let e = match self.front.take() {
            Some(f) => f,
            None => {
                if self.near.is_empty() {
                    self.refill()?;
                }
                self.near.pop()?.0
            }
        };
        if e.key as u64 & SAMPLE_BIT == 0 {
            self.clients -= 1;
        }
        Some(e.event())
    }

    /// Moves the next occupied bucket into the (empty) heap; `None` when
    /// nothing is queued.
    fn refill(&mut self) -> Option<()> {
        debug_assert!(self.near.is_empty());
        if self.in_ring == 0 {
            // Jump to the first event beyond the ring.
            let first = self.beyond.peek()?.0.time() / BUCKET_US;
            self.advance_to(first);
        }
        let i = self.next_occupied();
        let from = (self.cur % BUCKETS as u64) as usize;
        let steps = (i + BUCKETS - from) % BUCKETS;
        self.advance_to(self.cur + steps as u64);
        self.occupied[i / 64] &= !(1 << (i % 64));
        self.in_ring -= self.ring[i].len();
        self.near.extend(self.ring[i].drain(..).map(Reverse));
        self.cur += 1;
        self.pull_beyond();
        Some(())
    }

    /// Moves the horizon to bucket `b` (all buckets before it empty) and
    /// files the events beyond the ring that now fall in it.
    fn advance_to(&mut self, b: u64) {
        if b > self.cur {
            self.cur = b;
            self.pull_beyond();
        }
    }

    /// Files the events beyond the ring that the ring now covers.
    fn pull_beyond(&mut self) {
        let end = self.cur + BUCKETS as u64;
        while let Some(&Reverse(e)) = self.beyond.peek() {
            if e.time() / BUCKET_US >= end {
                break;
            }
            self.beyond.pop();
            self.file(e);
        }
    }

    /// Index of the first occupied bucket from the horizon on, in ring
    /// order (the ring is not empty).
    fn next_occupied(&self) -> usize {
        let from = (self.cur % BUCKETS as u64) as usize;
        let words = self.occupied.len();
        for k in 0..=words {
            let w = (from / 64 + k) % words;
            let mut bits = self.occupied[w];
            if k == 0 {
                bits &= !0u64 << (from % 64);
            }
            if bits != 0 {
                return w * 64 + bits.trailing_zeros() as usize;
            }
        }
        unreachable!("next_occupied on an empty ring")
    }

    /// Client events still queued.
    pub fn client_events(&self) -> usize {
        self.clients
    }

    /// Events queued.
    pub fn len(&self) -> usize {
        self.near.len() + self.in_ring + self.beyond.len() + self.front.is_some() as usize
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_pop_in_class_then_schedule_order() {
        let mut q = EventQueue::default();
        q.push(10, Class::Sample, 0, 0);
        q.push(10, Class::Client, 1, 1);
        q.push(5, Class::Sample, 0, 2);
        q.push(10, Class::Client, 2, 3);
        let order: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|e| e.token).collect();
        assert_eq!(order, vec![2, 1, 3, 0]);
    }

    /// The calendar and the front slot change nothing: over random pushes
    /// and pops the queue pops exactly what a plain heap of the same events
    /// pops, with events due within a bucket, across the ring, beyond it,
    /// after idle gaps, from the Unix epoch's present, and with every bucket
    /// occupied.
    #[test]
    fn pops_in_the_order_of_a_plain_heap() {
        use rand::{Rng, SeedableRng};
        let ring = BUCKET_US * BUCKETS as u64;
        for (case, (start, spreads)) in [
            (0, vec![50]),
            (0, vec![50, BUCKET_US * 3, ring / 2]),
            (1_700_000_000_000_000, vec![1_000, ring * 3, BUCKET_US]),
            (5, vec![10, ring * 50, ring + 1, 2 * BUCKET_US - 1]),
            // Every bucket occupied: the ring turns one bucket at a time.
            (0, vec![ring * 2, ring / 8]),
        ]
        .into_iter()
        .enumerate()
        {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3 + case as u64);
            let mut q = EventQueue::default();
            let mut plain: BinaryHeap<Reverse<Event>> = BinaryHeap::new();
            let mut seq = 0;
            let mut now = start;
            let mut popped = 0;
            for _ in 0..60_000 {
                if rng.gen_bool(0.55) {
                    let spread = spreads[rng.gen_range(0..spreads.len())];
                    let time = now + rng.gen_range(0..spread);
                    let class = [Class::Client, Class::Sample][rng.gen_range(0..2)];
                    let token = rng.gen();
                    q.push(time, class, 7, token);
                    seq += 1;
                    plain.push(Reverse(Event {
                        time,
                        class,
                        seq,
                        src: 7,
                        token,
                    }));
                } else {
                    let e = q.pop();
                    assert_eq!(e, plain.pop().map(|e| e.0), "case {case}");
                    if let Some(e) = e {
                        now = e.time;
                        popped += 1;
                    }
                }
                assert_eq!(q.len(), plain.len());
                let clients = plain.iter().filter(|e| e.0.class == Class::Client);
                if seq % 997 == 0 {
                    assert_eq!(q.client_events(), clients.count());
                }
            }
            assert!(popped > 20_000, "case {case}");
            while let Some(e) = plain.pop() {
                assert_eq!(q.pop(), Some(e.0), "case {case}: draining");
            }
            assert!(q.is_empty() && q.pop().is_none());
        }
    }

    /// An event filed beyond the ring joins it as soon as the ring turns
    /// over its bucket, even while every bucket on the way is occupied (no
    /// jump): it pops before a later event of the same bucket filed since.
    #[test]
    fn an_event_beyond_the_ring_joins_it_as_it_turns() {
        let mut q = EventQueue::default();
        let at = |b: u64| b * BUCKET_US + 10;
        let late = BUCKETS as u64 + 5;
        q.push(at(late), Class::Client, 0, 999);
        for b in 0..BUCKETS as u64 {
            q.push(at(b), Class::Client, 0, b);
        }
        for b in 0..10 {
            assert_eq!(q.pop().map(|e| e.token), Some(b));
        }
        for b in BUCKETS as u64..=late {
            q.push(at(b) + 1, Class::Client, 0, b);
        }
        let order: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|e| e.token).collect();
        let mut want: Vec<u64> = (10..=late).collect();
        want.insert(want.len() - 1, 999);
        assert_eq!(order, want);
    }
}
