//! Blocking work off the executor threads (DESIGN.md "Runtime": redb transactions, parsing,
//! password hashes), on a pool whose idle threads sleep until work comes.
//!
//! Why not `smol::unblock`: the `blocking` crate (1.7) wakes every idle thread of its pool
//! every 500 ms and never lets one exit below its 500-thread limit, so an idle server paid two
//! wake-ups a second for every thread a past burst had started (6/s right after start-up, more
//! after a busy hour; issue #20 asks for < 5/s: a Pi on battery or a tiny VPS pays for each).
//! Here an idle thread waits on a condition variable for [`KEEP_ALIVE`] and exits if nothing
//! came, so an idle server has no pool thread and no wake-up from the pool after that.
//!
//! Work is taken first come, first served. A thread is started when work is queued and no idle
//! thread is left to take it, up to [`MAX_THREADS`] (some work waits on the network, e.g.
//! sender authentication's DNS, so the limit is generous; CPU-bound work is bounded elsewhere).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

/// The most pool threads at once.
pub const MAX_THREADS: usize = 64;

/// How long an idle thread waits for work before it exits.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Work = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Work>,
    idle: usize,
    threads: usize,
    started: u64,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State::default()),
        ready: Condvar::new(),
    })
}

fn lock(p: &Pool) -> MutexGuard<'_, State> {
    // Work runs outside the lock and its panics are caught, so a poisoned lock only means a
    // panic between two lines of this file; the state is still consistent.
    p.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` on a pool thread and waits for its result without blocking the executor. A panic
/// in `f` is resumed in the caller, as `smol::unblock` does.
pub async fn unblock<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = async_channel::bounded(1);
    submit(Box::new(move || {
        let out = catch_unwind(AssertUnwindSafe(f));
        let _ = tx.try_send(out);
    }));
    match rx.recv().await {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => resume_unwind(panic),
        // Queued work is never dropped (the pool lives as long as the process, and `submit`
        // runs it in place if no thread can be started), so the sender outlives the result.
        Err(_) => resume_unwind(Box::new("pool work dropped without running")),
    }
}

/// The number of pool threads alive now (for tests and figures).
pub fn threads() -> usize {
    lock(pool()).threads
}

fn submit(work: Work) {
    let p = pool();
    let mut s = lock(p);
    s.queue.push_back(work);
    if s.idle >= s.queue.len() || s.threads >= MAX_THREADS {
        // An idle thread takes it, or a busy one when it is done.
        p.ready.notify_one();
        return;
    }
    s.threads += 1;
    s.started += 1;
    let name = format!("pool-{}", s.started);
    drop(s);
    if std::thread::Builder::new()
        .name(name)
        .spawn(move || work_loop(p))
        .is_err()
    {
        let mut s = lock(p);
        s.threads -= 1;
        if s.threads == 0 {
            // No thread could be started and none is left: run the work here rather than let
            // its caller wait forever (the executor thread is blocked meanwhile).
            while let Some(w) = s.queue.pop_front() {
                drop(s);
                w();
                s = lock(p);
            }
        }
    }
}

fn work_loop(p: &'static Pool) {
    let mut s = lock(p);
    loop {
        if let Some(w) = s.queue.pop_front() {
            drop(s);
            w();
            s = lock(p);
            continue;
        }
        s.idle += 1;
        let (guard, waited) = p
            .ready
            .wait_timeout(s, KEEP_ALIVE)
            .unwrap_or_else(PoisonError::into_inner);
        s = guard;
        s.idle -= 1;
        if waited.timed_out() && s.queue.is_empty() {
            s.threads -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_panics_come_back() {
        let sum = smol::block_on(async {
            let parts: Vec<_> = (0..20u64)
                .map(|i| smol::spawn(unblock(move || i * 2)))
                .collect();
            let mut sum = 0;
            for p in parts {
                sum += p.await;
            }
            sum
        });
        assert_eq!(sum, (0..20u64).map(|i| i * 2).sum::<u64>());
        let caught = std::panic::catch_unwind(|| {
            smol::block_on(unblock(|| -> u32 { panic!("inside the pool") }))
        });
        assert!(caught.is_err());
        // The pool still works after a panic.
        assert_eq!(smol::block_on(unblock(|| 7)), 7);
        assert!(threads() <= MAX_THREADS);
    }
}
