//! The crate's own rayon pools. We never use rayon's global pool: the host process (numpy, polars,
//! another extension) may own it, and we need to size ours from `FERROQUANT_MAX_THREADS` and to
//! rebuild it in a forked child, where the parent's worker threads no longer exist.

use crate::error::{Error, Result};
use std::sync::{Arc, Mutex, OnceLock};

/// Environment variable that caps the default pool size.
pub const ENV_MAX_THREADS: &str = "FERROQUANT_MAX_THREADS";

/// Pools built so far, keyed by their size. Key 0 is never stored: 0 means "the default size".
static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());

/// The hardware thread count, read once: `available_parallelism` re-reads the cgroup files on
/// every call (~25 µs here), and every parallel call resolves the default pool size.
pub(crate) fn hardware_threads() -> usize {
    static HW: OnceLock<usize> = OnceLock::new();
    *HW.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The number of threads the default pool has (or will have once built).
pub fn default_size() -> usize {
    let hw = hardware_threads();
    match std::env::var(ENV_MAX_THREADS) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            // An unparseable cap must not silently oversubscribe a shared machine: fall back to 1
            // would be surprising too, so we use the hardware count, as if the variable were unset.
            _ => hw,
        },
        Err(_) => hw,
    }
}

/// Resolves a requested thread count: 0 means the default size.
pub fn resolve(threads: usize) -> usize {
    if threads == 0 {
        default_size()
    } else {
        threads
    }
}

/// Returns the pool with `threads` workers (0 = default size), building it on first use.
pub fn get(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    let size = resolve(threads);
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == size) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(size)
        .thread_name(|i| format!("ferroquant-{i}"))
        .build()
        .map_err(|e| Error::ThreadPool {
            reason: e.to_string(),
        })?;
    let pool = Arc::new(pool);
    pools.push((size, Arc::clone(&pool)));
    Ok(pool)
}

/// Forgets every pool without joining or signalling its workers. Called in a forked child: the
/// workers were threads of the parent and do not exist here, so touching them would deadlock.
/// The pool objects are leaked on purpose (a few hundred bytes per fork).
pub fn forget_after_fork() {
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for (_, pool) in pools.drain(..) {
        std::mem::forget(pool);
    }
}

/// Runs `f` inside the pool with `threads` workers (0 = default), so that rayon parallel iterators
/// in `f` use our workers.
pub fn install<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T> {
    let pool = get(threads)?;
    Ok(pool.install(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_sizes_are_honoured_and_cached() {
        let a = get(3).unwrap();
        assert_eq!(a.current_num_threads(), 3);
        let b = get(3).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(install(2, rayon::current_num_threads).unwrap(), 2);
        assert!(resolve(0) >= 1);
    }
}
