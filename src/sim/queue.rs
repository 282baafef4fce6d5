//! The event queue: a binary heap ordered by (time, class, sequence number).
//!
//! Client events come before metric samples at equal times (the server
//! cron, which the event loop keeps beside the queue, runs between the
//! two); within a class, events at the same time pop in
//! the order they were scheduled. The order therefore never depends on how
//! the events got into the queue, which is what lets a recorded trace replay
//! exactly.
//!
//! A front slot holds the earliest event outside the heap: a replay
//! schedules its next record, which is usually earlier than every
//! sample, so most events never enter the heap at all. Likewise each
//! client's arrival process (at most one pending arrival per client) has a
//! slot of its own beside the heap: most of a generated workload's events
//! are arrivals, and scanning a few slots is cheaper than sifting them
//! through a heap of every session's and token's next step. Neither slot
//! changes the order: the earliest event by (time, class, sequence) pops.

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Simulated time (µs since the Unix epoch).
    pub time: Micros,
    /// Class (tie-break before `seq`).
    class: Class,
    /// Scheduling order.
    seq: u64,
    /// Index of the client that owns it (clients only).
    pub src: u32,
    /// The client's own payload (a user, a token, a phase).
    pub token: u64,
}

impl Event {
    /// An event of `class` at `time`, the `seq`-th scheduled.
    pub fn new(time: Micros, class: Class, seq: u64, src: u32, token: u64) -> Self {
        Event {
            time,
            class,
            seq,
            src,
            token,
        }
    }

    /// Time, class and order in one number, which sorts as events do.
    #[inline]
    fn key(&self) -> u128 {
        debug_assert!(self.seq < 1 << 63);
        (self.time as u128) << 64 | ((self.class == Class::Sample) as u128) << 63 | self.seq as u128
    }

    /// Its class.
    #[inline]
    pub fn class(&self) -> Class {
        self.class
    }
}

impl Ord for Event {
    /// By time, then class, then scheduling order (`seq` is unique, so
    /// the payload never decides).
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Event {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The queue.
#[derive(Clone, Default)]
pub struct EventQueue {
    /// An event earlier than every event in `heap`, if any.
    front: Option<Event>,
    heap: BinaryHeap<Reverse<Event>>,
    /// Each client's pending arrival ([`EventQueue::push_arrival`]), by
    /// client index, as its sort key ([`Event::key`]; `u128::MAX`: none),
    /// so that finding the earliest is a short branch-free scan.
    arrival_keys: Vec<u128>,
    /// The pending arrivals' tokens, by client index.
    arrival_tokens: Vec<u64>,
    /// Pending arrivals.
    n_arrivals: usize,
    seq: u64,
    clients: usize,
}

impl EventQueue {
    /// Schedules an event.
    #[inline]
    pub fn push(&mut self, time: Micros, class: Class, src: u32, token: u64) {
        self.seq += 1;
        if class == Class::Client {
            self.clients += 1;
        }
        let e = Event::new(time, class, self.seq, src, token);
        match self.front {
            Some(f) if e < f => {
                self.heap.push(Reverse(f));
                self.front = Some(e);
            }
            Some(_) => self.heap.push(Reverse(e)),
            None if self.heap.peek().is_none_or(|h| e < h.0) => self.front = Some(e),
            None => self.heap.push(Reverse(e)),
        }
    }

    /// Schedules client `src`'s next arrival: in its own slot beside the
    /// heap, or in the heap if it already has one pending.
    #[inline]
    pub fn push_arrival(&mut self, time: Micros, src: u32, token: u64) {
        let i = src as usize;
        if self.arrival_keys.get(i).is_some_and(|&k| k != u128::MAX) {
            return self.push(time, Class::Client, src, token);
        }
        self.seq += 1;
        self.clients += 1;
        if self.arrival_keys.len() <= i {
            self.arrival_keys.resize(i + 1, u128::MAX);
            self.arrival_tokens.resize(i + 1, 0);
        }
        self.arrival_keys[i] = Event::new(time, Class::Client, self.seq, src, token).key();
        self.arrival_tokens[i] = token;
        self.n_arrivals += 1;
    }

    /// The earliest event of the front slot and the heap.
    #[inline]
    fn first_queued(&self) -> Option<Event> {
        self.front.or_else(|| self.heap.peek().map(|e| e.0))
    }

    /// The earliest pending arrival's key and client (`u128::MAX` if none).
    #[inline]
    fn first_arrival(&self) -> (u128, usize) {
        let mut first = (u128::MAX, 0);
        for (i, &k) in self.arrival_keys.iter().enumerate() {
            if k < first.0 {
                first = (k, i);
            }
        }
        first
    }

    /// The earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let (key, i) = self.first_arrival();
        let e = if key != u128::MAX && self.first_queued().is_none_or(|q| key < q.key()) {
            self.arrival_keys[i] = u128::MAX;
            self.n_arrivals -= 1;

            Event::new(
                (key >> 64) as Micros,
                Class::Client,
                key as u64,
                i as u32,
                self.arrival_tokens[i],
            )
        } else {
            match self.front.take() {
                Some(f) => f,
                None => self.heap.pop()?.0,
            }
        };
        if e.class() == Class::Client {
            self.clients -= 1;
        }
        Some(e)
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<Micros> {
        let (key, _) = self.first_arrival();
        let arrival = (key != u128::MAX).then_some((key >> 64) as Micros);
        match (arrival, self.first_queued()) {
            (Some(a), Some(q)) => Some(a.min(q.time)),
            (a, q) => a.or(q.map(|e| e.time)),
        }
    }

    /// The latest time at which a client event scheduled now would pop
    /// before every event queued: a queued client event at `t` pops
    /// before a new one at `t` (scheduling order), a sample at `t` after
    /// it. `Micros::MAX` when nothing is queued.
    #[inline]
    pub fn client_first_until(&self) -> Micros {
        let (arrival, _) = self.first_arrival();
        let first = match self.first_queued() {
            Some(q) if q.key() < arrival => q.key(),
            _ => arrival,
        };
        if first == u128::MAX {
            return Micros::MAX;
        }
        let time = (first >> 64) as Micros;
        if (first >> 63) & 1 == 1 {
            time
        } else {
            time.saturating_sub(1)
        }
    }

    /// Client events still queued.
    pub fn client_events(&self) -> usize {
        self.clients
    }

    /// Events queued.
    pub fn len(&self) -> usize {
        self.heap.len() + self.front.is_some() as usize + self.n_arrivals
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

    /// The front slot and the arrival slots change nothing: over random
    /// pushes (arrivals of a few clients among them, some while the client
    /// has one pending already) and pops, the queue pops exactly what a
    /// plain heap of the same events pops.
    #[test]
    fn pops_in_the_order_of_a_plain_heap() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let mut q = EventQueue::default();
        let mut plain: BinaryHeap<Reverse<Event>> = BinaryHeap::new();
        let mut seq = 0;
        let mut now = 0;
        let mut popped = 0;
        for _ in 0..20_000 {
            if rng.gen_bool(0.55) {
                let time = now + rng.gen_range(0..50);
                let token = rng.gen();
                let (class, src) = if rng.gen_bool(0.5) {
                    let src = rng.gen_range(0..5);
                    q.push_arrival(time, src, token);
                    (Class::Client, src)
                } else {
                    let class = [Class::Client, Class::Sample][rng.gen_range(0..2)];
                    q.push(time, class, 7, token);
                    (class, 7)
                };
                seq += 1;
                plain.push(Reverse(Event::new(time, class, seq, src, token)));
            } else {
                let (a, b) = (q.peek_time(), plain.peek().map(|e| e.0.time));
                assert_eq!(a, b);
                let e = q.pop();
                assert_eq!(e, plain.pop().map(|e| e.0));
                if let Some(e) = e {
                    now = e.time;
                    popped += 1;
                }
            }
            assert_eq!(q.len(), plain.len());
        }
        assert!(popped > 5_000);
    }

    /// [`EventQueue::client_first_until`] is exact: over random queues, a
    /// client event pushed at that time pops first, one pushed a µs later
    /// does not.
    #[test]
    fn client_first_until_is_the_last_time_a_new_client_event_pops_first() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let mut checked = 0;
        for _ in 0..2_000 {
            let mut q = EventQueue::default();
            for _ in 0..rng.gen_range(0..6) {
                let time = rng.gen_range(1..20);
                match rng.gen_range(0..3) {
                    0 => q.push_arrival(time, rng.gen_range(0..3), 1),
                    1 => q.push(time, Class::Client, 4, 1),
                    _ => q.push(time, Class::Sample, 0, 1),
                }
            }
            let until = q.client_first_until();
            if until == Micros::MAX {
                assert!(q.is_empty());
                continue;
            }
            for (at, first) in [(until, true), (until + 1, false)] {
                let mut q = q.clone();
                q.push(at, Class::Client, 9, 77);
                assert_eq!(q.pop().map(|e| e.token == 77), Some(first), "at {at}");
            }
            checked += 1;
        }
        assert!(checked > 1_500);
    }
}
