//! A crew of helper threads for short jobs that come back to back, such as the ticks of a live
//! universe stream (about 30 µs of work per 4,000-symbol tick).
//!
//! A rayon pool's workers sleep between such calls, and waking them costs more than the job
//! (~70 µs on the 2-vCPU reference machine). A crew's helpers instead keep polling for a while
//! after their last item (the *spin window*, [`ENV_SPIN_US`]), then park. The calling thread
//! never waits for a helper to wake: it starts on the items at once and helpers that are awake
//! take items too. A job so costs at most what it costs alone plus the wait for a helper's last
//! item (and one wake-up call when a helper had parked), and about half of it on two cores when
//! calls come within the window.
//!
//! Items are claimed one at a time from a single atomic word, so which thread runs an item never
//! changes what the item computes: results are the same for any crew size.

use crate::error::{Error, Result};
use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Environment variable: how long (µs) a helper keeps polling for work after its last item
/// before it parks. Default [`DEFAULT_SPIN_US`]; 0 parks at once.
pub const ENV_SPIN_US: &str = "FERROQUANT_SPIN_US";

/// Default spin window: a crew costs at most this much of a core per job, and ticks that come
/// less than this far apart find the helpers awake.
pub const DEFAULT_SPIN_US: u64 = 200;

/// Most threads a crew has (the calling thread included): a job it serves is a few tens of
/// microseconds, which more threads would only spend claiming items.
pub const MAX_THREADS: usize = 4;

/// Most items per job (the claim word holds item indices in 16 bits).
pub const MAX_ITEMS: usize = 0xFFFF;

/// The job being served: its item function, and how many of its items have finished.
struct Job<'a> {
    run: &'a (dyn Fn(usize) + Sync),
    done: AtomicUsize,
    panicked: AtomicBool,
}

/// What the caller and the helpers share.
struct Shared {
    /// Claim word: job epoch (32 bits) | front (16) | back (16); the items not yet claimed are
    /// `front..back`. The calling thread claims from the front and helpers from the back, so
    /// each thread takes about the same items from one job to the next and finds their data in
    /// its own cache (dynamic claims from one end moved every chunk's state between cores on each
    /// tick, which on the reference VM made two threads slower than one). A claim is a
    /// compare-exchange within the same epoch, so it is valid only for the job that published
    /// the word, and that job outlives every valid claim (it waits for `done` to reach the count).
    claim: AtomicU64,
    /// The job of the current epoch; a `Job` on the caller's stack, lifetime erased.
    job: AtomicPtr<Job<'static>>,
    /// Helpers that are parked (or about to park).
    parked: AtomicUsize,
    spin: Duration,
}

const ITEM_BITS: u32 = 16;
const ITEM_MASK: u64 = (1 << ITEM_BITS) - 1;

impl Shared {
    /// Claims and runs one item of the current job, from the front or the back; false when there
    /// is none left.
    fn run_one(&self, front: bool) -> bool {
        let mut word = self.claim.load(Ordering::Acquire);
        let item = loop {
            let (lo, hi) = ((word >> ITEM_BITS) & ITEM_MASK, word & ITEM_MASK);
            if lo >= hi {
                return false;
            }
            let (next, item) = if front {
                (word + (1 << ITEM_BITS), lo)
            } else {
                (word - 1, hi - 1)
            };
            match self
                .claim
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break item as usize,
                Err(now) => word = now,
            }
        };
        // SAFETY: the claim succeeded, so the job that published `word` is still waiting for
        // this item and its `Job` lives until `done` counts it; the pointer was stored before
        // the word was published (release) and read after the claim (acquire).
        let job = unsafe { &*self.job.load(Ordering::Acquire) };
        if catch_unwind(AssertUnwindSafe(|| (job.run)(item))).is_err() {
            job.panicked.store(true, Ordering::Relaxed);
        }
        // After this the job may be gone: nothing of it is touched again.
        job.done.fetch_add(1, Ordering::Release);
        true
    }

    fn has_work(&self) -> bool {
        let word = self.claim.load(Ordering::SeqCst);
        (word >> ITEM_BITS) & ITEM_MASK < word & ITEM_MASK
    }
}

fn helper(shared: Arc<Shared>) {
    loop {
        let mut last = Instant::now();
        let mut polls = 0u32;
        loop {
            if shared.run_one(false) {
                polls = 0;
                last = Instant::now();
                continue;
            }
            polls = polls.wrapping_add(1);
            // The clock is read every 64 polls (a poll is a load and a pause, ~30 ns).
            if polls % 64 == 0 && last.elapsed() >= shared.spin {
                break;
            }
            std::hint::spin_loop();
        }
        shared.parked.fetch_add(1, Ordering::SeqCst);
        // A job published after the count rose sees it and unparks us (park keeps the token);
        // one published before is seen here.
        if !shared.has_work() {
            std::thread::park();
        }
        shared.parked.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Helper threads and the lock that lets one job at a time use them.
pub struct Crew {
    shared: Arc<Shared>,
    helpers: Vec<Thread>,
    busy: Mutex<()>,
}

impl Crew {
    fn new(threads: usize, spin: Duration) -> Result<Crew> {
        let shared = Arc::new(Shared {
            claim: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            parked: AtomicUsize::new(0),
            spin,
        });
        let helpers = (1..threads)
            .map(|i| {
                let s = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("ferroquant-crew-{i}"))
                    .spawn(move || helper(s))
                    .map(|h| h.thread().clone())
                    .map_err(|e| Error::ThreadPool {
                        reason: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Crew {
            shared,
            helpers,
            busy: Mutex::new(()),
        })
    }

    /// Runs `f(i)` for every `i < n` (at most [`MAX_ITEMS`]) on the calling thread and any
    /// helper that is awake; returns when all have finished. A panic in an item becomes
    /// [`Error::Internal`] once every item has finished. While another job holds the crew,
    /// the items run on the calling thread alone.
    pub fn run(&self, n: usize, f: &(dyn Fn(usize) + Sync)) -> Result<()> {
        if self.helpers.is_empty() || n <= 1 || n > MAX_ITEMS {
            return run_alone(n, f);
        }
        let Ok(guard) = self.busy.try_lock() else {
            return run_alone(n, f);
        };
        let job = Job {
            run: f,
            done: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
        };
        let erased = (&job as *const Job<'_>).cast_mut().cast::<Job<'static>>();
        let s = &*self.shared;
        s.job.store(erased, Ordering::Release);
        let epoch = (s.claim.load(Ordering::Relaxed) >> (2 * ITEM_BITS)) + 1;
        let word = ((epoch & 0xFFFF_FFFF) << (2 * ITEM_BITS)) | n as u64;
        s.claim.store(word, Ordering::SeqCst);
        if s.parked.load(Ordering::SeqCst) > 0 {
            self.helpers.iter().for_each(Thread::unpark);
        }
        while s.run_one(true) {}
        // Every item is claimed; wait for the helpers' last ones (a chunk each, ~1 µs).
        let mut polls = 0u32;
        while job.done.load(Ordering::Acquire) < n {
            polls = polls.wrapping_add(1);
            if polls % 1024 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        drop(guard);
        if job.panicked.load(Ordering::Relaxed) {
            return Err(Error::Internal {
                reason: "panic in a crew item".to_owned(),
            });
        }
        Ok(())
    }

    /// Runs `f` on every item of `items` (see [`Crew::run`]).
    pub fn for_each<T: Send>(&self, items: Vec<T>, f: impl Fn(T) + Sync) -> Result<()> {
        let cells: Vec<Once<T>> = items.into_iter().map(Once::new).collect();
        self.run(cells.len(), &|i| {
            if let Some(t) = cells[i].take() {
                f(t)
            }
        })
    }
}

fn run_alone(n: usize, f: &(dyn Fn(usize) + Sync)) -> Result<()> {
    catch_unwind(AssertUnwindSafe(|| (0..n).for_each(f))).map_err(|_| Error::Internal {
        reason: "panic in a crew item".to_owned(),
    })
}

/// A value taken by exactly one thread: [`Crew::run`] hands each index out once.
struct Once<T>(UnsafeCell<Option<T>>);

// SAFETY: each cell is taken by the one thread that claimed its index (claims are unique), so
// no two threads access a cell; `T: Send` lets the value move to that thread.
unsafe impl<T: Send> Sync for Once<T> {}

impl<T> Once<T> {
    fn new(t: T) -> Self {
        Once(UnsafeCell::new(Some(t)))
    }

    fn take(&self) -> Option<T> {
        // SAFETY: see the `Sync` impl: only the claiming thread calls this, once.
        unsafe { (*self.0.get()).take() }
    }
}

fn spin_us() -> u64 {
    std::env::var(ENV_SPIN_US)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_SPIN_US, |us| us.min(1_000_000))
}

/// Crews built so far, keyed by size (this process's; see [`forget_after_fork`]).
static CREWS: Mutex<Vec<(usize, Arc<Crew>)>> = Mutex::new(Vec::new());

/// The crew for `threads` threads (0 = the default pool size), at most [`MAX_THREADS`] and at
/// most the hardware threads: a helper that polls on a core the caller needs would slow it down
/// (a sleeping pool worker does not, so the pool may be larger).
pub fn get(threads: usize) -> Result<Arc<Crew>> {
    let size = crate::pool::resolve(threads)
        .min(crate::pool::hardware_threads())
        .clamp(1, MAX_THREADS);
    let mut crews = CREWS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = crews.iter().find(|(n, _)| *n == size) {
        return Ok(Arc::clone(c));
    }
    let crew = Arc::new(Crew::new(size, Duration::from_micros(spin_us()))?);
    crews.push((size, Arc::clone(&crew)));
    Ok(crew)
}

/// Forgets every crew in a forked child, where their helpers do not exist (leaked on purpose,
/// as [`crate::pool::forget_after_fork`] does with the pools).
pub fn forget_after_fork() {
    let mut crews = CREWS.lock().unwrap_or_else(|p| p.into_inner());
    for (_, c) in crews.drain(..) {
        std::mem::forget(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPIN: Duration = Duration::from_micros(DEFAULT_SPIN_US);

    #[test]
    fn every_item_runs_once_for_any_size() {
        for size in 1..=MAX_THREADS {
            let crew = Crew::new(size, SPIN).unwrap();
            for n in [0, 1, 2, 7, 64, 1000] {
                let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                for _ in 0..50 {
                    crew.run(n, &|i| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                    })
                    .unwrap();
                }
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 50));
            }
        }
    }

    #[test]
    fn items_own_disjoint_slices() {
        let crew = Crew::new(2, SPIN).unwrap();
        let mut v = vec![0u64; 4096];
        let items: Vec<(usize, &mut [u64])> = v.chunks_mut(100).enumerate().collect();
        crew.for_each(items, |(c, s)| {
            for (j, x) in s.iter_mut().enumerate() {
                *x = (c * 100 + j) as u64;
            }
        })
        .unwrap();
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    }

    #[test]
    fn a_panicking_item_is_an_error_after_all_items_finish() {
        let crew = Crew::new(2, SPIN).unwrap();
        let count = AtomicUsize::new(0);
        let r = crew.run(16, &|i| {
            count.fetch_add(1, Ordering::Relaxed);
            assert!(i != 5, "boom");
        });
        assert!(matches!(r, Err(Error::Internal { .. })));
        assert_eq!(count.load(Ordering::Relaxed), 16);
        // The crew still works afterwards.
        crew.run(4, &|_| {}).unwrap();
    }

    #[test]
    fn parked_helpers_wake_for_later_jobs() {
        let crew = Crew::new(2, Duration::ZERO).unwrap();
        let seen = Mutex::new(std::collections::HashSet::new());
        for _ in 0..200 {
            crew.run(64, &|_| {
                seen.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(Duration::from_micros(20));
            })
            .unwrap();
            std::thread::sleep(Duration::from_micros(200));
        }
        assert_eq!(
            seen.lock().unwrap().len(),
            2,
            "the helper never took an item"
        );
    }
}
