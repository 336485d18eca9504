//! The one timer hyper asks for on a connection: its request-head timeout, made to tell an idle
//! keep-alive connection from a slow request head.
//!
//! hyper starts its `header_read_timeout` as soon as a connection is ready for the next request,
//! so on its own one number would bound both the idle wait between requests and the time a
//! client may take to send a head. We want a short limit on heads (slowloris: headers trickled
//! in byte by byte) and a longer one on idleness (RFC 9112 §9.8: a server may close an idle
//! connection at any time; clients keep them for reuse). This timer looks at the connection's
//! read counter: while no byte of the next request has arrived, the wait ends after the idle
//! timeout; from the first byte on, after the head timeout counted from that byte. A
//! connection's first request gets the head timeout from the start (nothing to be idle after).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What the connection's reader and the bridge share with the timer.
#[derive(Default)]
pub struct ConnActivity {
    /// Bytes read from the client so far (decrypted).
    pub bytes_read: AtomicU64,
    /// Requests whose head has been parsed on this connection.
    pub requests: AtomicU64,
}

/// Hyper's timer for one connection.
#[derive(Clone)]
pub struct ConnTimer {
    pub activity: Arc<ConnActivity>,
    pub header: Duration,
    pub idle: Duration,
}

impl hyper::rt::Timer for ConnTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    /// hyper's HTTP/1 server asks this timer for one thing only, the head timeout (hyper
    /// 1.12 `proto/h1/conn.rs`; HTTP/2 is not built), so every sleep is a head sleep.
    fn sleep_until(&self, _deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let now = Instant::now();
        let first_request = self.activity.requests.load(Ordering::Relaxed) == 0;
        Box::pin(HeadSleep {
            activity: self.activity.clone(),
            read_at_start: self.activity.bytes_read.load(Ordering::Relaxed),
            first_byte: first_request.then_some(now),
            started: now,
            header: self.header,
            idle: self.idle,
            timer: smol::Timer::never(),
        })
    }
}

/// Ends at `first_byte + header` once a byte has come, else at `started + idle`.
struct HeadSleep {
    activity: Arc<ConnActivity>,
    read_at_start: u64,
    first_byte: Option<Instant>,
    started: Instant,
    header: Duration,
    idle: Duration,
    timer: smol::Timer,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.first_byte.is_none()
            && this.activity.bytes_read.load(Ordering::Relaxed) != this.read_at_start
        {
            // hyper polls this right after a read that did not complete the head, so "now" is
            // when the next request began to arrive (to within one poll).
            this.first_byte = Some(Instant::now());
        }
        let deadline = match this.first_byte {
            Some(t) => t + this.header,
            None => this.started + this.idle,
        };
        this.timer.set_at(deadline);
        match Pin::new(&mut this.timer).poll(cx) {
            Poll::Ready(_) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl hyper::rt::Sleep for HeadSleep {}
