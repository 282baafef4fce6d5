//! Keyspace commands, as Redis's `db.c` (with OBJECT from `object.c` and
//! MEMORY USAGE from `object.c`'s memoryCommand): DEL, UNLINK, EXISTS,
//! TOUCH, TYPE, DBSIZE, FLUSHALL, OBJECT and MEMORY USAGE.

use super::{int_arg, lower, Exec, KeyMap, Value};
use crate::reply::Reply;
use crate::store::memory;
use crate::store::{Key, Store};

impl<V: Value, K: KeyMap> Exec<'_, V, K> {
    /// DEL or UNLINK: how many of the keys existed.
    pub(super) fn del_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        Reply::Int(self.count_keys(argv, |s, k| s.del(k)))
    }

    /// EXISTS: how many of the keys exist (a key named twice counts twice).
    pub(super) fn exists_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        Reply::Int(self.count_keys(argv, |s, k| s.exists(k)))
    }

    /// TOUCH: how many of the keys exist.
    pub(super) fn touch_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        Reply::Int(self.count_keys(argv, |s, k| s.touch(k)))
    }

    /// TYPE.
    pub(super) fn type_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        // Every key of the model is a string; TYPE's lookup does not
        // touch the key, like EXISTS.
        let k = self.key(&argv[1]);
        let t = if self.store.exists(k) {
            "string"
        } else {
            "none"
        };
        Reply::Status(t.into())
    }

    /// DBSIZE.
    pub(super) fn dbsize_command(&self) -> Reply {
        Reply::Int(self.store.dbsize() as i64)
    }

    /// FLUSHALL, with an optional SYNC or ASYNC.
    pub(super) fn flushall_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        if argv.len() > 2
            || (argv.len() == 2 && !matches!(lower(&argv[1]).as_str(), "sync" | "async"))
        {
            return Err(Reply::err("syntax error"));
        }
        self.store.flushall();
        Ok(Reply::ok())
    }

    /// Applies `f` to each key argument and counts the trues.
    fn count_keys(
        &mut self,
        argv: &[Vec<u8>],
        mut f: impl FnMut(&mut Store<V>, Key) -> bool,
    ) -> i64 {
        let mut n = 0;
        for a in &argv[1..] {
            let k = self.key(a);
            n += f(self.store, k) as i64;
        }
        n
    }

    /// OBJECT ENCODING, FREQ or IDLETIME.
    pub(super) fn object_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let sub = lower(&argv[1]);
        let k = self.key(&argv[2]);
        // objectCommandLookup: a read lookup without touching (counts stats).
        if !self.store.exists(k) {
            return Ok(Reply::Nil);
        }
        let lfu = self.store.config().policy.is_lfu();
        match sub.as_str() {
            "encoding" => {
                let enc = self.store.peek(k.id).map(|(_, _, e, _)| e.name()).unwrap_or("raw");
                Ok(Reply::bulk(enc))
            }
            "freq" if !lfu => Err(Reply::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")),
            "freq" => Ok(Reply::Int(self.store.object_freq(k.id).unwrap_or(0) as i64)),
            "idletime" if lfu => Err(Reply::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")),
            _ => Ok(Reply::Int(self.store.object_idletime(k.id).unwrap_or(0) as i64)),
        }
    }

    /// MEMORY USAGE key [SAMPLES n].
    pub(super) fn memory_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let samples_ok =
            argv.len() == 5 && lower(&argv[3]) == "samples" && int_arg(&argv[4]).is_ok();
        if argv.len() != 3 && !samples_ok {
            return Err(Reply::err("syntax error"));
        }
        let id = self.key(&argv[2]).id;
        Ok(match self.store.key_memory(id) {
            None => Reply::Nil,
            Some(_) => Reply::Int(self.memory_usage(id, &argv[2]) as i64),
        })
    }

    /// `MEMORY USAGE`: `objectComputeSize` + the key's sds + `sizeof(dictEntry)`
    /// (24, unrounded), as memoryCommand adds them.
    fn memory_usage(&self, id: u64, name: &[u8]) -> u64 {
        // objectComputeSize counts a shared integer's robj too, and the
        // allocation of an sds APPEND grew.
        let Some(value_size) = self.store.value_memory(id) else {
            return 0;
        };
        value_size + memory::sds_bytes(name.len() as u64) + 24
    }
}
