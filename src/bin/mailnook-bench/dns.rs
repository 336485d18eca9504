//! A tiny authoritative DNS responder on 127.0.0.1 (UDP) for the sender-authentication figure:
//! TXT records from a fixed table (SPF, the DKIM key, DMARC), an empty NOERROR for other
//! types of a known name, NXDOMAIN for unknown names (RFC 1035 §4.1). No DNS crate is a
//! normal dependency of the package (hickory comes only through mail-auth), and the bench
//! needs no more than this.
//!
//! Bounded: one 1,500-byte receive buffer, one question per query, answers from the fixed
//! table only; the thread stops when the responder is dropped.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Seconds the server's resolver may cache an answer (it caches, as it would in real use).
const TTL: u32 = 60;

pub struct Dns {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Dns {
    /// Serves `txt` (owner name, value) until dropped.
    pub fn start(txt: &[(&str, &str)]) -> Result<Dns, String> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = socket.local_addr().map_err(|e| e.to_string())?;
        // Wakes up now and then to see whether it should stop.
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let mut table: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in txt {
            table
                .entry(name.trim_end_matches('.').to_ascii_lowercase())
                .or_default()
                .push(value.to_string());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(answer) = answer(&buf[..n], &table) {
                    let _ = socket.send_to(&answer, from);
                }
            }
        });
        Ok(Dns {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The response to one query, or None for anything that is not a well-formed query.
fn answer(q: &[u8], table: &HashMap<String, Vec<String>>) -> Option<Vec<u8>> {
    // Header (RFC 1035 §4.1.1): a query (QR 0, opcode 0) with one question.
    if q.len() < 12 || q[2] & 0xf8 != 0 || q[4..6] != [0, 1] {
        return None;
    }
    // Question (§4.1.2): labels of at most 63 octets, no compression in a question.
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        if len > 63 || pos + len > q.len() || labels.len() >= 127 {
            return None;
        }
        labels.push(String::from_utf8_lossy(&q[pos..pos + len]).to_ascii_lowercase());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*q.get(pos)?, *q.get(pos + 1)?]);
    let question_end = pos + 4;
    let question = q.get(12..question_end)?;
    let known = table.get(&labels.join("."));
    let txt: &[String] = match known {
        Some(v) if qtype == 16 => v,
        _ => &[],
    };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&q[0..2]); // id
    // QR, AA, RD copied; RA; RCODE 3 (NXDOMAIN) for an unknown name.
    out.push(0x84 | (q[2] & 0x01));
    out.push(0x80 | if known.is_none() { 3 } else { 0 });
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&(txt.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // no authority, no additional (so no EDNS)
    out.extend_from_slice(question);
    for value in txt {
        // RFC 1035 §3.3.14: TXT data is character-strings of at most 255 octets each.
        let mut rdata = Vec::new();
        for chunk in value.as_bytes().chunks(255) {
            rdata.push(chunk.len() as u8);
            rdata.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0xc0, 12]); // the question's name
        out.extend_from_slice(&16u16.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}
