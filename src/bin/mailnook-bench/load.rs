//! Parallel SMTP senders for the side figures: `conns` threads take message numbers from one
//! counter until `count` are sent, so the total is exact whatever each thread's pace. Every
//! message counts only with its 250 (durable): any other reply fails the figure.

use crate::smtp_client::Smtp;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The envelope sender of every side-figure message (SPF is published for its domain).
pub const MAIL_FROM: &str = "sender@example.net";

/// Hands out message numbers 0..count.
pub struct Tickets {
    next: AtomicUsize,
    count: usize,
}

impl Tickets {
    pub fn take(&self) -> Option<usize> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.count).then_some(i)
    }
}

pub struct Sent {
    pub elapsed: Duration,
    pub bytes: u64,
}

impl Sent {
    pub fn rate(&self, count: usize) -> f64 {
        count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `work(thread, tickets)` on `conns` threads at once; each returns the bytes it sent.
pub fn parallel<W>(count: usize, conns: usize, work: W) -> Result<Sent, String>
where
    W: Fn(usize, &Tickets) -> Result<u64, String> + Sync,
{
    let tickets = Tickets {
        next: AtomicUsize::new(0),
        count,
    };
    let t = Instant::now();
    let results: Vec<Result<u64, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..conns.max(1))
            .map(|c| {
                let (work, tickets) = (&work, &tickets);
                s.spawn(move || work(c, tickets))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("sender thread panicked".into()))
            })
            .collect()
    });
    let elapsed = t.elapsed();
    let mut bytes = 0;
    for r in results {
        bytes += r?;
    }
    Ok(Sent { elapsed, bytes })
}

/// `count` messages over `conns` reused sessions: each thread opens one session and sends
/// what `make(thread)` builds for each message number it takes.
pub fn reused<M, G>(addr: SocketAddr, count: usize, conns: usize, make: M) -> Result<Sent, String>
where
    M: Fn(usize) -> Result<G, String> + Sync,
    G: FnMut(usize) -> Result<Vec<u8>, String>,
{
    parallel(count, conns, |c, tickets| {
        let mut message = make(c)?;
        let mut smtp = Smtp::connect(addr)?;
        let mut bytes = 0;
        while let Some(i) = tickets.take() {
            let m = message(i)?;
            bytes += m.len() as u64;
            smtp.send(MAIL_FROM, crate::USER, &m)?;
        }
        smtp.quit();
        Ok(bytes)
    })
}
