//! Experiments that compare the model with a real redis-server, shared by the
//! fidelity tests and the benches: the expiry storm (active expiry) and the
//! cache-aside replay (eviction policies). Each runs the exact request
//! sequence a script or test sends to the real server.

pub mod cache_aside;
pub mod storm;
