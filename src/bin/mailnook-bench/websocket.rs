//! JMAP WebSocket figures (RFC 8887, issue #15): memory per idle socket with push on, next to
//! the event source's, and push latency from an SMTP 250 to the StateChange frame, with `n`
//! sockets open. The client is tungstenite's protocol layer over the bench's TLS stream; the
//! opening handshake (RFC 6455 §4.1) is written here, as the bench builds without
//! tungstenite's client handshake.

use crate::http_client::Https;
use crate::smtp_client::Smtp;
use crate::stats::{self, Row, ms, percentile};
use async_tungstenite::tungstenite::protocol::{Role, WebSocket};
use async_tungstenite::tungstenite::{Message, Utf8Bytes};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

type Tls = rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>;

/// Opens one socket with push on for Email.
fn open(http: &Https) -> Result<WebSocket<Tls>, String> {
    let mut s = http.open()?;
    let req = format!(
        "GET /jmap/ws HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: jmap\r\n\r\n",
        http.auth_header()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    // The head, byte by byte so nothing after it is consumed (the server sends no frame
    // before our first message).
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 4096 {
            return Err("websocket: response head too long".into());
        }
        s.read_exact(&mut b).map_err(|e| e.to_string())?;
        head.push(b[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(format!(
            "websocket: upgrade refused: {}",
            String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or_default()
        ));
    }
    let mut ws = WebSocket::from_raw_socket(s, Role::Client, None);
    ws.send(Message::Text(Utf8Bytes::from(
        r#"{"@type":"WebSocketPushEnable","dataTypes":["Email"]}"#,
    )))
    .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// Waits for the next StateChange on `ws`.
fn next_push(ws: &mut WebSocket<Tls>) -> Result<(), String> {
    loop {
        match ws.read().map_err(|e| e.to_string())? {
            Message::Text(t) if t.as_str().contains("\"StateChange\"") => return Ok(()),
            _ => continue,
        }
    }
}

fn read_timeout(ws: &mut WebSocket<Tls>, d: Duration) -> Result<(), String> {
    ws.get_mut()
        .get_mut()
        .set_read_timeout(Some(d))
        .map_err(|e| e.to_string())
}

/// Reads whatever is already queued, for up to 100 ms of quiet.
fn drain(ws: &mut WebSocket<Tls>) -> Result<(), String> {
    read_timeout(ws, Duration::from_millis(100))?;
    while ws.read().is_ok() {}
    read_timeout(ws, Duration::from_secs(30))
}

/// `n` idle sockets' memory, then `pushes` deliveries timed to their StateChange frame.
pub fn figures(
    pid: u32,
    http: &Https,
    smtp: SocketAddr,
    user: &str,
    n: usize,
    pushes: usize,
) -> Result<Vec<Row>, String> {
    let before = stats::rss_kib(pid);
    let mut socks = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        socks.push(open(http)?);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = stats::rss_kib(pid);
    let per = after.saturating_sub(before) as f64 / socks.len() as f64;
    let mut rows = vec![Row {
        figure: format!("{} idle WebSockets", socks.len()),
        value: format!("{per:.1} KB each"),
        target: "<= idle event source".into(),
        how: "RFC 8887 over TLS, push on, VmRSS delta / sockets".into(),
    }];
    // Every socket gets every push; only the first is read and timed (the others' frames
    // wait in their buffers, as they would for a phone asleep).
    let ws = &mut socks[0];
    let mut client = Smtp::connect(smtp)?;
    let mut lat = Vec::with_capacity(pushes);
    for i in 0..pushes {
        let msg = format!(
            "From: <ws@example.net>\r\nTo: <{user}>\r\nSubject: ws {i}\r\nMessage-ID: <ws{i}@example.net>\r\n\r\nhi\r\n"
        );
        // A late second StateChange of the previous delivery must not be taken for this one.
        drain(ws)?;
        client.send("ws@example.net", user, msg.as_bytes())?;
        let at_250 = Instant::now();
        next_push(ws)?;
        lat.push(at_250.elapsed());
    }
    client.quit();
    lat.sort();
    if !lat.is_empty() {
        rows.push(Row {
            figure: "push latency (WebSocket)".into(),
            value: format!(
                "p50 {} / p99 {}",
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99))
            ),
            target: "< 100 ms".into(),
            how: format!(
                "SMTP 250 -> StateChange frame read, {} sockets open",
                socks.len()
            ),
        });
    }
    Ok(rows)
}
