//! Expiry commands, as Redis's `expire.c`: the EXPIRE family, the TTL
//! family and PERSIST, and the expire-time parsing SET and GETEX share.

use super::{int_arg, lower, text, Exec, KeyMap, Value};
use crate::reply::Reply;
use crate::store::{ExpireCond, TtlState};

fn expire_time_error(cmd: &str) -> Reply {
    Reply::err(format!("invalid expire time in '{cmd}' command"))
}

impl<V: Value, K: KeyMap> Exec<'_, V, K> {
    /// `getExpireMillisecondsOrReply`: positive, no overflow; relative times
    /// are added to the command's time.
    pub(super) fn expire_ms(
        &self,
        cmd: &str,
        seconds: bool,
        absolute: bool,
        arg: &[u8],
    ) -> Result<i64, Reply> {
        let v = int_arg(arg)?;
        if v <= 0 || (seconds && v > i64::MAX / 1000) {
            return Err(expire_time_error(cmd));
        }
        let ms = if seconds { v * 1000 } else { v };
        let when = if absolute {
            ms
        } else {
            ms.checked_add(self.store.now_ms()).unwrap_or(-1)
        };
        if when <= 0 {
            return Err(expire_time_error(cmd));
        }
        Ok(when)
    }

    /// `expireGenericCommand` with `parseExtendedExpireArgumentsOrReply`.
    pub(super) fn expire_command(&mut self, name: &str, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let mut cond = ExpireCond::default();
        for opt in &argv[3..] {
            match lower(opt).as_str() {
                "nx" => cond.nx = true,
                "xx" => cond.xx = true,
                "gt" => cond.gt = true,
                "lt" => cond.lt = true,
                _ => return Err(Reply::err(format!("Unsupported option {}", text(opt)))),
            }
        }
        if cond.nx && (cond.xx || cond.gt || cond.lt) {
            return Err(Reply::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if cond.gt && cond.lt {
            return Err(Reply::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        let mut when = int_arg(&argv[2])?;
        if !name.starts_with('p') {
            when = when
                .checked_mul(1000)
                .ok_or_else(|| expire_time_error(name))?;
        }
        let base = if name.ends_with("at") {
            0
        } else {
            self.store.now_ms()
        };
        let when = when
            .checked_add(base)
            .ok_or_else(|| expire_time_error(name))?;
        let k = self.key(&argv[1]);
        Ok(Reply::bool(self.store.expire(k, when, cond)))
    }

    /// TTL, PTTL, EXPIRETIME or PEXPIRETIME (`name`): -2 for a missing key,
    /// -1 for one without a TTL.
    pub(super) fn ttl_command(&mut self, name: &str, argv: &[Vec<u8>]) -> Reply {
        let k = self.key(&argv[1]);
        let now = self.store.now_ms();
        Reply::Int(match self.store.ttl(k) {
            TtlState::Missing => -2,
            TtlState::Persistent => -1,
            TtlState::At(when) => {
                let v = if name.ends_with("time") {
                    when
                } else {
                    when - now
                }
                .max(0);
                if name.starts_with('p') {
                    v
                } else {
                    // Redis's (ttl+500)/1000 yields the exact rounded
                    // value even at i64::MAX (observed: PXAT
                    // 9223372036854775807 → EXPIRETIME 9223372036854776).
                    ((v as i128 + 500) / 1000) as i64
                }
            }
        })
    }

    /// PERSIST.
    pub(super) fn persist_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let k = self.key(&argv[1]);
        Reply::bool(self.store.persist(k))
    }
}
