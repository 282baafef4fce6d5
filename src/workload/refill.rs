//! Refills for MONITOR replays: the writes a capture lacks because the
//! client's next move depended on the server's reply.
//!
//! A capture records a closed loop. A cache-aside client GETs a key and,
//! only when the server missed, SETs it. When the model has evicted a key
//! the server kept, the model misses a GET the server answered, and the
//! capture holds no SET to put the key back: replayed as it is, the model
//! keeps missing that key until the server itself loses it (for a hot key,
//! for the rest of its TTL), and it evicts less because it writes less. On
//! a scripted capture against a real redis-server this put the model's hit
//! ratio 1–2 points below the server's and its `evicted_keys` 9% low.
//!
//! So a GET the model misses, on a key it evicted, is held open until the
//! same client's next command that is not a GET of its pipeline (a
//! pipeline's GETs come first, within 1 ms (`PIPELINE_GAP_US`) of each other,
//! then its SETs): if that client then writes the key (SET, SETEX, PSETEX,
//! SETNX), the server had missed too and the client's own write is the fill;
//! otherwise (another command, a GET of a new round or of the same key) the
//! server had answered, and the model writes the key back as the server held
//! it, with its value size and absolute expire time from the last write the
//! model saw, before running that next command.
//! The model's GET still counts as the miss it was. `--no-fill` turns
//! refills off.

use rustc_hash::FxHashMap;

use crate::sim::keys::{Fate, SimKey};
use crate::sim::Ctx;
use crate::store::Payload;
use crate::store::NO_TTL;

/// A client's GETs the model missed, waiting for its next other command.
#[derive(Default)]
struct Open {
    /// Keys the model missed and had evicted before.
    missed: Vec<SimKey>,
    /// A command other than GET has come since (the fill phase).
    closed: bool,
    /// Time (µs) of the client's last GET while open.
    last_get_us: u64,
}

/// GETs closer together than this are one pipeline (sent without waiting
/// for replies); a GET later than this after the last is a new round,
/// sent after the replies, so the open misses were answered by then.
const PIPELINE_GAP_US: u64 = 1_000;

/// Open misses a client may hold; beyond, the oldest is settled.
const MAX_OPEN: usize = 64;

/// The refill state of one MONITOR replay.
#[derive(Default)]
pub struct Refills {
    /// Per client (a hash of the MONITOR source), its open misses.
    open: FxHashMap<u64, Open>,
    /// Per key, its value length and expire time (Unix ms or `NO_TTL`)
    /// after the last command that left it in the model.
    last: FxHashMap<u64, (u32, i64)>,
    /// Keys written back.
    count: u64,
}

fn is_write(name: &[u8]) -> bool {
    [&b"set"[..], b"setex", b"psetex", b"setnx"]
        .iter()
        .any(|w| name.eq_ignore_ascii_case(w))
}

impl Refills {
    /// Before `argv` (keys resolved in `keys`) from `client` runs: settles
    /// the client's open misses this command decides.
    pub fn before(&mut self, ctx: &mut Ctx, client: u64, argv: &[Vec<u8>], keys: &[SimKey]) {
        let Some(open) = self.open.get_mut(&client) else {
            return;
        };
        let name = argv.first().map_or(&[][..], |a| &a[..]);
        if name.eq_ignore_ascii_case(b"get")
            && !open.closed
            && ctx.now().saturating_sub(open.last_get_us) < PIPELINE_GAP_US
            && !keys
                .first()
                .is_some_and(|k| open.missed.iter().any(|m| m.id == k.id))
        {
            open.last_get_us = ctx.now();
            return; // still the pipeline's GETs
        }
        if is_write(name) {
            if let Some(k) = keys.first() {
                open.missed.retain(|m| m.id != k.id);
            }
            open.closed = true;
            if !open.missed.is_empty() {
                return; // more of the client's own fills may follow
            }
        }
        let Some(open) = self.open.remove(&client) else {
            return;
        };
        for k in open.missed {
            self.write_back(ctx, k);
        }
    }

    /// After `argv` ran: notes a GET the model missed on a key it had
    /// evicted, and each key's state as the command left it.
    pub fn after(&mut self, ctx: &mut Ctx, client: u64, argv: &[Vec<u8>], keys: &[SimKey]) {
        let Some(&k) = keys.first() else { return };
        match ctx.peek_value(k) {
            Some((v, expire_at_ms)) => {
                self.last.insert(k.id, (v.len() as u32, expire_at_ms));
            }
            None => {
                let name = argv.first().map_or(&[][..], |a| &a[..]);
                if name.eq_ignore_ascii_case(b"get") && ctx.fate(k) == Fate::Evicted {
                    let now = ctx.now();
                    let open = self.open.entry(client).or_default();
                    open.last_get_us = now;
                    open.missed.push(k);
                    if open.missed.len() > MAX_OPEN {
                        let oldest = open.missed.remove(0);
                        self.write_back(ctx, oldest);
                    }
                }
            }
        }
    }

    /// Writes `k` back as the server held it, unless it has expired since.
    fn write_back(&mut self, ctx: &mut Ctx, k: SimKey) {
        let Some(&(len, expire_at_ms)) = self.last.get(&k.id) else {
            return;
        };
        let now = ctx.now_ms();
        let ttl_ms = match expire_at_ms {
            NO_TTL => 0,
            e if e > now => (e - now) as u64,
            _ => return,
        };
        ctx.fill(k, len, ttl_ms);
        self.count += 1;
    }

    /// Keys written back so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}
