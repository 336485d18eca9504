//! The two body types of the hyper <-> tide bridge (`bridge.rs`): a request body that tide
//! reads from hyper with a deadline on every wait, and a response body that hyper reads from
//! tide in bounded frames, so that streams (the event source, blob downloads) go out as they
//! are produced.

use futures_lite::{AsyncBufRead, AsyncRead};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A response body frame is at most this large (a blob download streams in such pieces).
const FRAME: usize = 64 * 1024;

/// After the first `timeout`, a body must average at least this many bytes a second: a deadline
/// on each wait alone lets a client trickle one byte just inside it for ever (slowloris on the
/// body). 1 KiB/s lets a 25 MB upload take seven hours.
const MIN_BYTES_PER_SEC: u64 = 1024;

/// A request body as tide reads it: hyper's frames, with a deadline on each wait and a floor
/// on the average rate.
pub struct InBody {
    incoming: Incoming,
    chunk: Bytes,
    done: bool,
    timeout: Duration,
    timer: Option<smol::Timer>,
    started: std::time::Instant,
    received: u64,
}

impl InBody {
    /// `timeout`: the longest wait for the next piece (`http_body_timeout_secs`).
    pub fn new(incoming: Incoming, timeout: Duration) -> InBody {
        InBody {
            incoming,
            chunk: Bytes::new(),
            done: false,
            timeout,
            timer: None,
            started: std::time::Instant::now(),
            received: 0,
        }
    }

    /// Whether the body, so far, arrives slower than the floor allows.
    fn too_slow(&self) -> bool {
        let elapsed = self.started.elapsed();
        elapsed > self.timeout && self.received < MIN_BYTES_PER_SEC * elapsed.as_secs()
    }
}

impl AsyncBufRead for InBody {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() && !this.done {
            match Pin::new(&mut this.incoming).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    this.timer = None;
                    if let Ok(data) = frame.into_data() {
                        this.received += data.len() as u64;
                        this.chunk = data;
                    }
                    if this.too_slow() {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the request body arrives too slowly",
                        )));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
                }
                Poll::Ready(None) => this.done = true,
                Poll::Pending => {
                    let timeout = this.timeout;
                    let timer = this
                        .timer
                        .get_or_insert_with(|| smol::Timer::after(timeout));
                    if Pin::new(timer).poll(cx).is_ready() {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the request body stopped arriving",
                        )));
                    }
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(&this.chunk[..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.chunk = this.chunk.slice(amt.min(this.chunk.len())..);
    }
}

impl AsyncRead for InBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = match self.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Ok(src)) => {
                let n = src.len().min(buf.len());
                buf[..n].copy_from_slice(&src[..n]);
                n
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

/// A response body for hyper: tide's body read in frames of at most [`FRAME`] bytes, so a
/// blob download or an event stream goes out as it is produced.
pub struct OutBody {
    body: Option<tide::http::Body>,
    len: Option<u64>,
}

impl OutBody {
    /// tide's body, framed by hyper with its length when known (else chunked, or
    /// close-delimited for HTTP/1.0).
    pub fn new(body: tide::http::Body) -> OutBody {
        let len = body.len().map(|n| n as u64);
        OutBody {
            body: Some(body),
            len,
        }
    }

    pub fn bytes(b: Vec<u8>) -> OutBody {
        let len = b.len() as u64;
        OutBody {
            body: Some(tide::http::Body::from_bytes(b)),
            len: Some(len),
        }
    }
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        let chunk = match Pin::new(&mut *body).poll_fill_buf(cx) {
            Poll::Ready(Ok([])) => {
                this.body = None;
                return Poll::Ready(None);
            }
            Poll::Ready(Ok(buf)) => Bytes::copy_from_slice(&buf[..buf.len().min(FRAME)]),
            Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
            Poll::Pending => return Poll::Pending,
        };
        Pin::new(body).consume(chunk.len());
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_none() || self.len == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        match self.len {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
