//! The thread pool: one persistent set of worker threads for every CPU kernel. Work is split
//! statically: with T threads, thread t always gets the same contiguous share of the index range,
//! so results are bitwise reproducible for a given thread count (no work stealing, no
//! order-dependent atomics). Size: available parallelism, or `SEAM_NUM_THREADS`. Nested calls
//! from inside a job run inline. Kernels run back to back (a training step makes hundreds of pool
//! calls), so the workers and the caller first spin briefly on atomics mirroring the generation
//! and the count of unfinished workers before sleeping on the condition variables: a futex
//! wake-up costs tens of microseconds, more than many of these jobs.

use std::cell::Cell;
use std::ops::Range;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

type Job = dyn Fn(usize) + Sync;

#[derive(Clone, Copy)]
struct JobPtr(*const Job);
unsafe impl Send for JobPtr {}

struct State {
    generation: u64,
    job: Option<JobPtr>,
    remaining: usize,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

/// Spin iterations (about 50 microseconds) before a wait falls back to sleeping.
const SPIN: u32 = 20_000;

struct Pool {
    size: usize,
    /// Copies of `State::generation` and `State::remaining`, written under the lock, read by spinners.
    generation: AtomicU64,
    remaining: AtomicUsize,
    state: Mutex<State>,
    start: Condvar,
    done: Condvar,
    dispatch: Mutex<()>,
}

static POOL: OnceLock<&'static Pool> = OnceLock::new();

thread_local! {
    static INSIDE_JOB: Cell<bool> = const { Cell::new(false) };
}

fn configured_size() -> usize {
    let avail = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    match std::env::var("SEAM_NUM_THREADS").ok().and_then(|s| s.trim().parse::<usize>().ok()) {
        Some(n) if n >= 1 => n.min(256),
        _ => avail,
    }
}

fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        let size = configured_size();
        let p: &'static Pool = Box::leak(Box::new(Pool {
            size,
            generation: AtomicU64::new(0),
            remaining: AtomicUsize::new(0),
            state: Mutex::new(State { generation: 0, job: None, remaining: 0, panic: None }),
            start: Condvar::new(),
            done: Condvar::new(),
            dispatch: Mutex::new(()),
        }));
        for t in 1..size {
            std::thread::Builder::new()
                .name(format!("seam-worker-{t}"))
                .spawn(move || worker(p, t))
                .expect("spawn seam worker thread");
        }
        p
    })
}

fn worker(p: &'static Pool, t: usize) {
    INSIDE_JOB.with(|c| c.set(true));
    let mut seen = 0u64;
    loop {
        spin_while(|| p.generation.load(Ordering::Acquire) == seen);
        let job = {
            let mut st = p.state.lock().unwrap_or_else(|e| e.into_inner());
            while st.generation == seen {
                st = p.start.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            seen = st.generation;
            st.job
        };
        let result = match job {
            Some(JobPtr(f)) => catch_unwind(AssertUnwindSafe(|| unsafe { (*f)(t) })),
            None => Ok(()),
        };
        let mut st = p.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = result {
            st.panic.get_or_insert(e);
        }
        st.remaining -= 1;
        p.remaining.store(st.remaining, Ordering::Release);
        if st.remaining == 0 {
            p.done.notify_all();
        }
    }
}

/// Spins while `busy()` holds, at most SPIN times.
fn spin_while(busy: impl Fn() -> bool) {
    for _ in 0..SPIN {
        if !busy() {
            return;
        }
        std::hint::spin_loop();
    }
}

/// Number of threads kernels split their work over.
pub fn num_threads() -> usize {
    pool().size
}

/// Runs `f(t)` once on every pool thread t in 0..num_threads(); returns when all have finished.
/// A panic in any thread is re-raised on the caller after all threads are done.
pub fn run_on_all(f: &(dyn Fn(usize) + Sync)) {
    let p = pool();
    if p.size == 1 || INSIDE_JOB.with(|c| c.get()) {
        for t in 0..p.size {
            f(t);
        }
        return;
    }
    let _serial = p.dispatch.lock().unwrap_or_else(|e| e.into_inner());
    // The job outlives this call in no thread: we wait for every worker before returning.
    let ptr: *const Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static Job>(f) };
    {
        let mut st = p.state.lock().unwrap_or_else(|e| e.into_inner());
        st.job = Some(JobPtr(ptr));
        st.remaining = p.size - 1;
        st.panic = None;
        st.generation += 1;
        p.remaining.store(st.remaining, Ordering::Release);
        p.generation.store(st.generation, Ordering::Release);
        p.start.notify_all();
    }
    INSIDE_JOB.with(|c| c.set(true));
    let mine = catch_unwind(AssertUnwindSafe(|| f(0)));
    INSIDE_JOB.with(|c| c.set(false));
    spin_while(|| p.remaining.load(Ordering::Acquire) > 0);
    let mut st = p.state.lock().unwrap_or_else(|e| e.into_inner());
    while st.remaining > 0 {
        st = p.done.wait(st).unwrap_or_else(|e| e.into_inner());
    }
    st.job = None;
    let theirs = st.panic.take();
    drop(st);
    if let Err(e) = mine {
        resume_unwind(e);
    }
    if let Some(e) = theirs {
        resume_unwind(e);
    }
}

/// The share of `0..n` that thread `t` of `parts` owns (contiguous, fixed for given n and parts).
pub fn share(n: usize, parts: usize, t: usize) -> Range<usize> {
    (t * n / parts)..((t + 1) * n / parts)
}

/// Runs `f(t, share(n, parts, t))` on pool threads t < parts = min(threads, n) (in line when
/// parts is 1); returns parts. The split depends only on n and the pool size.
pub fn run_shares(n: usize, f: impl Fn(usize, Range<usize>) + Sync) -> usize {
    let parts = num_threads().min(n).max(1);
    if parts == 1 {
        f(0, 0..n);
    } else {
        run_on_all(&|t| {
            if t < parts {
                f(t, share(n, parts, t))
            }
        });
    }
    parts
}

/// Calls `f(range)` on contiguous, disjoint ranges covering `0..n`, one per thread, splitting
/// only when each range would hold at least `min_per_thread` items.
pub fn parallel_ranges(n: usize, min_per_thread: usize, f: impl Fn(Range<usize>) + Sync) {
    if n == 0 {
        return;
    }
    let parts = num_threads().min(n / min_per_thread.max(1)).max(1);
    if parts == 1 || INSIDE_JOB.with(|c| c.get()) {
        f(0..n);
        return;
    }
    run_on_all(&|t| {
        if t < parts {
            let r = share(n, parts, t);
            if !r.is_empty() {
                f(r);
            }
        }
    });
}

/// Calls `f(i)` for every i in `0..n`, statically partitioned over the pool.
pub fn parallel_for(n: usize, f: impl Fn(usize) + Sync) {
    parallel_ranges(n, 1, |r| {
        for i in r {
            f(i)
        }
    });
}

/// A raw pointer that may be shared across the pool's threads; each thread must only touch
/// the disjoint part of the buffer its share of the work owns.
#[derive(Clone, Copy)]
pub struct SharedMut<T>(pub *mut T);
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    pub fn new(s: &mut [T]) -> Self {
        SharedMut(s.as_mut_ptr())
    }
    /// # Safety
    /// The caller guarantees `off..off+len` is in bounds and not accessed by another thread.
    #[allow(clippy::mut_from_ref)] // the point of SharedMut: disjoint mutable slices from one shared handle
    pub unsafe fn slice(&self, off: usize, len: usize) -> &mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(off), len)
    }
}
