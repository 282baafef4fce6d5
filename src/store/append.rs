//! APPEND (`appendCommand`, t_string.c) and the memory of a string that
//! grows in place: `dbUnshareStringValue` turns an INT, shared or EMBSTR
//! value into a RAW one with an exact-size sds, then `sdscatlen` grows it
//! with `sdsMakeRoomFor`'s greedy rule (sds.c).

use super::memory::{self, size_class, Encoding, ROBJ};
use super::{Key, Lookup, Payload, Store};

/// `SDS_MAX_PREALLOC`: up to 1 MiB a growing sds doubles; beyond, it adds
/// 1 MiB.
const SDS_MAX_PREALLOC: u64 = 1 << 20;

/// The `proto-max-bulk-len` default that `checkStringLength` enforces.
pub const MAX_STRING: u64 = 512 << 20;

/// An sds that APPEND grew: its allocation and capacity (`sdsalloc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Grown {
    /// Bytes of the allocation (a jemalloc size class).
    pub alloc: u64,
    /// Bytes the string can hold without reallocating.
    pub capacity: u64,
}

/// The sds `sdsnewlen` makes for `len` bytes (`createRawStringObject`):
/// a type-5 sds (len < 32) records no capacity, so it never has room.
fn exact(len: u64) -> Grown {
    let alloc = memory::sds_bytes(len);
    let header = memory::sds_header(len);
    let capacity = if header == 1 {
        len
    } else {
        usable(alloc, header)
    };
    Grown { alloc, capacity }
}

/// The sds of a RAW value a write stored (`tryObjectEncoding`):
/// `trimStringObjectIfNeeded` trims more than 10% of free space, which
/// leaves the allocation's size class but records no spare capacity.
fn stored(len: u64) -> Grown {
    let s = exact(len);
    if s.capacity - len > len / 10 {
        Grown { capacity: len, ..s }
    } else {
        s
    }
}

/// An sds's capacity in an allocation of `alloc` bytes: less header and
/// NUL, at most what its header type can record (`sdsTypeMaxSize`).
fn usable(alloc: u64, header: u64) -> u64 {
    let max = match header {
        3 => 0xff,
        5 => 0xffff,
        9 => 0xffff_ffff,
        _ => u64::MAX,
    };
    (alloc - header - 1).min(max)
}

/// `sdsMakeRoomFor(s, add)` on an sds holding `len` bytes: unchanged if it
/// has room, else reallocated for twice the new length (plus 1 MiB beyond
/// `SDS_MAX_PREALLOC`), never as type 5, the capacity being the usable size
/// of the allocation less header and NUL.
fn make_room(s: Grown, len: u64, add: u64) -> Grown {
    if s.capacity - len >= add {
        return s;
    }
    let need = len + add;
    let greedy = if need < SDS_MAX_PREALLOC {
        need * 2
    } else {
        need + SDS_MAX_PREALLOC
    };
    let header = memory::sds_header(greedy.max(32));
    let alloc = size_class(header + greedy + 1);
    Grown {
        alloc,
        capacity: usable(alloc, header),
    }
}

/// APPEND's refusal: the result would exceed `proto-max-bulk-len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

impl<P: Payload> Store<P> {
    /// APPEND of `add` bytes: on a missing key, writes `joined(None)` as
    /// SET would (no TTL); otherwise replaces the value with `joined(old)`
    /// as a RAW string grown in place, keeping its TTL. Returns the new
    /// length, or `None` if a new key was not admitted.
    pub fn append(
        &mut self,
        key: Key,
        add: u64,
        joined: impl FnOnce(Option<&P>) -> P,
    ) -> Result<Option<u64>, TooLong> {
        let Some(id) = self.lookup(key.id, Lookup::Write) else {
            let value = joined(None);
            let len = value.len();
            if self.admission_needed() {
                let bytes = self.new_key_cost(key.len, &value);
                if !self.admit_new(key.id, bytes) {
                    return Ok(None);
                }
            }
            self.add_slot(key, value);
            return Ok(Some(len));
        };
        let i = id as usize;
        let old = self.slots[i].value.as_ref().expect("live slot has a value");
        let len = old.len();
        if len + add > MAX_STRING {
            return Err(TooLong);
        }
        let sds = match (self.slots[i].encoding, self.grown.get(&id)) {
            (Encoding::Raw, Some(&g)) => g,
            (Encoding::Raw, None) => stored(len),
            // dbUnshareStringValue: a new RAW object of the decoded string.
            _ => exact(len),
        };
        let grown = make_room(sds, len, add);
        let value = joined(Some(old));
        let old_bytes = self.slot_value_cost(id);
        self.slots[i].value = Some(value);
        self.slots[i].encoding = Encoding::Raw;
        self.grown.insert(id, grown);
        let new_bytes = self.slot_value_cost(id);
        self.resize_value(id, old_bytes, new_bytes);
        Ok(Some(len + add))
    }

    /// Bytes the memory model counts for the value in slot `id`: an sds
    /// APPEND grew counts its allocation.
    pub(super) fn slot_value_cost(&self, id: u32) -> u64 {
        let i = id as usize;
        let len = self.slots[i].value.as_ref().map_or(0, |v| v.len());
        match (self.model(), self.grown.get(&id)) {
            (super::MemoryModel::Redis, Some(g)) => ROBJ + g.alloc,
            _ => self.value_cost(self.slots[i].encoding, len),
        }
    }

    /// Bytes Redis's `objectComputeSize` gives the value of `key` (what
    /// MEMORY USAGE adds to the key's own bytes), whatever the memory model.
    pub fn value_memory(&self, key: u64) -> Option<u64> {
        let id = self.main.find_no_rehash(key)?;
        let i = id as usize;
        let len = self.slots[i].value.as_ref()?.len();
        Some(match (self.slots[i].encoding, self.grown.get(&id)) {
            (Encoding::SharedInt, _) => ROBJ,
            (_, Some(g)) => ROBJ + g.alloc,
            (e, None) => e.value_bytes(len),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_growth_follows_sds_make_room_for() {
        // A 300-byte RAW value (type 16, class 320, capacity 314): 14 more
        // fit; 15 double it: 2 × 315 + 5 + 1 → class 640.
        let s = exact(300);
        assert_eq!(
            s,
            Grown {
                alloc: 320,
                capacity: 314
            }
        );
        assert_eq!(make_room(s, 300, 14), s);
        assert_eq!(
            make_room(s, 300, 15),
            Grown {
                alloc: 640,
                capacity: 634
            }
        );
        // A type-5 sds never has room; its growth is never type 5.
        let t = exact(5);
        assert_eq!(
            make_room(t, 5, 1),
            Grown {
                alloc: 16,
                capacity: 12
            }
        );
        // A stored 50-byte value was trimmed (10 spare > 5): no room.
        assert_eq!(
            stored(50),
            Grown {
                alloc: 64,
                capacity: 50
            }
        );
        assert_eq!(stored(300), exact(300));
        // A type-8 sds records at most 255 bytes of capacity.
        assert_eq!(
            make_room(exact(100), 100, 27),
            Grown {
                alloc: 320,
                capacity: 255
            }
        );
        assert_eq!(
            exact(0),
            Grown {
                alloc: 8,
                capacity: 4
            }
        );
        // Beyond 1 MiB it adds 1 MiB: 1,048,576 + 300,000 + 1 MiB + 9 + 1
        // → the 2.5 MiB class.
        assert_eq!(
            make_room(exact(1 << 20), 1 << 20, 300_000),
            Grown {
                alloc: 2_621_440,
                capacity: 2_621_430
            }
        );
    }
}
