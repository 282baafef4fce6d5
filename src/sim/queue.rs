//! The event queue: a binary heap ordered by (time, class, sequence number).
//!
//! Client events come before the server cron, and the cron before metric
//! samples, at equal times; within a class, events at the same time pop in
//! the order they were scheduled. The order therefore never depends on how
//! the events got into the queue, which is what lets a recorded trace replay
//! exactly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::store::Micros;

/// Event classes, in the order they run at equal times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// A client's request (or its timer).
    Client = 0,
    /// The server cron (`serverCron` at `hz`).
    Cron = 1,
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

/// The queue.
#[derive(Default)]
pub struct EventQueue {
    heap: BinaryHeap<Reverse<Event>>,
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
        self.heap.push(Reverse(Event {
            time,
            class,
            seq: self.seq,
            src,
            token,
        }));
    }

    /// The earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let e = self.heap.pop()?.0;
        if e.class == Class::Client {
            self.clients -= 1;
        }
        Some(e)
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<Micros> {
        self.heap.peek().map(|e| e.0.time)
    }

    /// Client events still queued.
    pub fn client_events(&self) -> usize {
        self.clients
    }

    /// Events queued.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_pop_in_class_then_schedule_order() {
        let mut q = EventQueue::default();
        q.push(10, Class::Cron, 0, 0);
        q.push(10, Class::Client, 1, 1);
        q.push(5, Class::Sample, 0, 2);
        q.push(10, Class::Client, 2, 3);
        let order: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|e| e.token).collect();
        assert_eq!(order, vec![2, 1, 3, 0]);
    }
}
