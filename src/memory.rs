//! Giving freed memory back to the operating system (issue 13).
//!
//! A burst (a large message parsed, a large JMAP answer built) allocates tens of megabytes that
//! are freed a moment later. With glibc's defaults that memory stays in the process: each thread
//! that allocates may get its own arena (up to 8 per core), a freed region only goes back when it
//! is at the top of a heap, and the mmap threshold grows after every large free until 32 MB, so
//! later large buffers come from the heap and stay there. On a 1 GB Pi the server's RSS would
//! sit at its peak.
//!
//! [`tune`] runs first in `serve`: two arenas, a fixed 256 kB mmap threshold (large buffers are
//! mapped and unmapped on free) and a 1 MB trim threshold. [`spawn_trimmer`] then calls
//! `malloc_trim(0)` every few seconds, which returns the free pages inside the heaps too (glibc
//! 2.8 and later madvise them). Measured in tests/it/mime_figures.rs. Other platforms and
//! allocators need none of this; the functions do nothing there.

/// Seconds between two `malloc_trim` calls: a burst is given back within this time.
pub const TRIM_EVERY_SECS: u64 = 5;

/// Set (to anything) to keep glibc's defaults, e.g. to measure what the tuning buys.
pub const KEEP_DEFAULTS_ENV: &str = "MAILNOOK_MALLOC_DEFAULTS";

fn keep_defaults() -> bool {
    std::env::var_os(KEEP_DEFAULTS_ENV).is_some()
}

/// Sets glibc's allocator options; call before threads are started.
pub fn tune() {
    if keep_defaults() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; the values are in their documented ranges.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Starts the thread that hands free heap pages back every [`TRIM_EVERY_SECS`].
pub fn spawn_trimmer() {
    if keep_defaults() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(TRIM_EVERY_SECS));
                    // SAFETY: malloc_trim is thread-safe and only releases free memory.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                }
            });
        if let Err(e) = spawned {
            log::warn!("cannot start the malloc-trim thread: {e}");
        }
    }
}
