//! DATA (RFC 5321 §4.1.1.4): read the dot-stuffed message within `smtp_data_timeout_secs` and
//! `max_message_size`, then hand it on: port 25 to the receive step (`smtp/mx.rs` ->
//! `ingest/receive.rs`), the submission port to the outbound queue (`smtp/submission.rs`).
//! 250 is sent only once the message is durable.

use crate::smtp::reply;
use crate::smtp::session::{Mode, Next, Session};
use crate::wire::{ReadError, printable};
use std::time::Duration;

pub async fn run(s: &mut Session) -> Next {
    if s.mail_from.is_none() {
        return s
            .error(&reply::BAD_SEQUENCE.with("Need MAIL before DATA"))
            .await;
    }
    if s.rcpts.is_empty() && s.forwards.is_empty() {
        return s.refuse(&reply::NO_RECIPIENTS).await;
    }
    s.reply(&reply::START_DATA.line());
    if s.conn.flush().await.is_err() {
        return Next::Close;
    }
    let limit = s.ctx.config.max_message_size;
    // A client that keeps sending far past the limit is cut off rather than read forever.
    let give_up = (limit as u64).saturating_mul(2) + 1024 * 1024;
    let timeout = Duration::from_secs(s.ctx.config.smtp_data_timeout_secs);
    let data = match s
        .conn
        .read_dot_data(limit, s.declared_size, give_up, timeout)
        .await
    {
        Ok(d) => d,
        Err(ReadError::Flood) => {
            log::info!(
                "{} {}: message far over the size limit, closing",
                s.tag(),
                s.peer
            );
            s.close_with(&reply::TOO_BIG.line()).await;
            return Next::Close;
        }
        Err(ReadError::Timeout) => {
            log::info!("{} {}: data timeout, closing", s.tag(), s.peer);
            s.close_with(&reply::TIMEOUT.line()).await;
            return Next::Close;
        }
        Err(_) => return Next::Close,
    };
    if data.too_big {
        log::info!(
            "{} {}: refused message from <{}>: {} bytes over the limit {limit}",
            s.tag(),
            s.peer,
            printable(s.mail_from.as_deref().unwrap_or_default()),
            data.seen
        );
        let rcpts = s.rcpt_list();
        s.record(&reply::TOO_BIG.line(), rcpts, None);
        s.reset();
        s.reply(&reply::TOO_BIG.line());
        return Next::Continue;
    }
    let line = match s.mode.clone() {
        Mode::Mx => crate::smtp::mx::deliver(s, data.message).await,
        Mode::Submission(outbound) => {
            crate::smtp::submission::submit(s, &outbound, data.message).await
        }
    };
    s.reset();
    s.reply(&line);
    Next::Continue
}
