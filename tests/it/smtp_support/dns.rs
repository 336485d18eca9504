//! The test suite's DNS responder on 127.0.0.1 (UDP), std only: `smtp_support` re-exports it
//! for the integration tests, and the bench includes this same file for its sender-
//! authentication figure (`src/bin/mailnook-bench/sender_auth.rs`), so there is one.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

/// A minimal DNS server: answers TXT, MX, A, AAAA, PTR, SRV and CNAME queries from a table,
/// NXDOMAIN for unknown names, an empty NOERROR for other types of known names. Enough for SPF
/// (ip4/ip6/include/all), DKIM and DMARC records, outbound MX routing, for names that
/// resolve to addresses the server must refuse to contact (net_guard tests), and for the DNS
/// doctor's zone (reverse names, the JMAP SRV, autoconfig CNAMEs). A CNAME answers every type
/// asked of its name, followed by the target's records of that type (RFC 1034 §3.6.2).
pub struct Dns {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<Rec>>>>,
    /// The TTL of every answer (60 s unless a test that changes records sets 0, so that the
    /// server's resolver cache does not hide the change).
    ttl: Arc<std::sync::atomic::AtomicU32>,
}

enum Rec {
    Txt(String),
    /// Preference and exchange ("." for a null MX, RFC 7505).
    Mx(u16, String),
    /// An address record (A or AAAA by its family).
    Ip(IpAddr),
    /// A reverse name (PTR, stored under its in-addr.arpa / ip6.arpa name).
    Ptr(String),
    /// Priority, weight, port, target (RFC 2782).
    Srv(u16, u16, u16, String),
    /// An alias: the canonical name.
    Cname(String),
}

impl Dns {
    pub fn start() -> Dns {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("dns bind");
        let addr = socket.local_addr().expect("dns addr");
        let records: Arc<Mutex<HashMap<String, Vec<Rec>>>> = Arc::default();
        let table = records.clone();
        let ttl = Arc::new(std::sync::atomic::AtomicU32::new(60));
        let ttl2 = ttl.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    return;
                };
                let ttl = ttl2.load(std::sync::atomic::Ordering::SeqCst);
                if let Some(answer) = answer(&buf[..n], &table.lock().unwrap(), ttl) {
                    let _ = socket.send_to(&answer, from);
                }
            }
        });
        Dns { addr, records, ttl }
    }

    /// Answers with TTL 0 from now on (records that a test changes).
    pub fn no_caching(&self) {
        self.ttl.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn txt(&self, name: &str, value: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.trim_end_matches('.').to_lowercase())
            .or_default()
            .push(Rec::Txt(value.to_string()));
    }

    pub fn mx(&self, name: &str, preference: u16, exchange: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.trim_end_matches('.').to_lowercase())
            .or_default()
            .push(Rec::Mx(preference, exchange.to_string()));
    }

    /// Removes every record of `name` (a test changing what DNS says, e.g. a new MTA-STS id).
    pub fn clear(&self, name: &str) {
        self.records
            .lock()
            .unwrap()
            .remove(&name.trim_end_matches('.').to_lowercase());
    }

    /// An A (IPv4) or AAAA (IPv6) record.
    pub fn ip(&self, name: &str, ip: IpAddr) {
        self.records
            .lock()
            .unwrap()
            .entry(name.trim_end_matches('.').to_lowercase())
            .or_default()
            .push(Rec::Ip(ip));
    }

    /// The reverse name of `ip` (a PTR record at its in-addr.arpa or ip6.arpa name).
    pub fn ptr(&self, ip: IpAddr, name: &str) {
        let owner = match ip {
            IpAddr::V4(a) => {
                let o = a.octets();
                format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
            }
            IpAddr::V6(a) => {
                let hex: String = a.octets().iter().map(|b| format!("{b:02x}")).collect();
                let nibbles: Vec<String> = hex.chars().rev().map(|c| c.to_string()).collect();
                format!("{}.ip6.arpa", nibbles.join("."))
            }
        };
        self.records
            .lock()
            .unwrap()
            .entry(owner)
            .or_default()
            .push(Rec::Ptr(name.to_string()));
    }

    pub fn srv(&self, name: &str, priority: u16, weight: u16, port: u16, target: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.trim_end_matches('.').to_lowercase())
            .or_default()
            .push(Rec::Srv(priority, weight, port, target.to_string()));
    }

    pub fn cname(&self, name: &str, target: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.trim_end_matches('.').to_lowercase())
            .or_default()
            .push(Rec::Cname(target.to_string()));
    }
}

/// `name` in DNS wire form (labels, then the root).
fn wire_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn matches_type(r: &Rec, qtype: u16) -> bool {
    matches!(
        (r, qtype),
        (Rec::Txt(_), 16)
            | (Rec::Mx(..), 15)
            | (Rec::Ip(IpAddr::V4(_)), 1)
            | (Rec::Ip(IpAddr::V6(_)), 28)
            | (Rec::Ptr(_), 12)
            | (Rec::Srv(..), 33)
            | (Rec::Cname(_), 5)
    )
}

fn answer(q: &[u8], table: &HashMap<String, Vec<Rec>>, ttl: u32) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    // Question: labels, then type and class.
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(pos..pos + len)?).to_lowercase());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*q.get(pos)?, *q.get(pos + 1)?]);
    let question_end = pos + 4;
    let name = labels.join(".");
    let known = table.get(&name);
    // (owner: None for the question's name, the record)
    let mut answers: Vec<(Option<String>, &Rec)> = Vec::new();
    if let Some(v) = known {
        answers.extend(
            v.iter()
                .filter(|r| matches_type(r, qtype))
                .map(|r| (None, r)),
        );
        // A CNAME stands for every type at its name: give it, then the target's records.
        if answers.is_empty()
            && qtype != 5
            && let Some(c @ Rec::Cname(target)) = v.iter().find(|r| matches!(r, Rec::Cname(_)))
        {
            answers.push((None, c));
            let t = target.trim_end_matches('.').to_lowercase();
            if let Some(tv) = table.get(&t) {
                answers.extend(
                    tv.iter()
                        .filter(|r| matches_type(r, qtype))
                        .map(|r| (Some(t.clone()), r)),
                );
            }
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(&q[0..2]); // id
    let rcode = if known.is_none() { 3 } else { 0 };
    out.extend_from_slice(&[0x84 | (q[2] & 0x01), 0x80 | rcode]); // QR AA RD, RA
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(q.get(12..question_end)?);
    for (owner, rec) in answers {
        match owner {
            None => out.extend_from_slice(&[0xc0, 12]),
            Some(o) => out.extend_from_slice(&wire_name(&o)),
        }
        let mut rdata = Vec::new();
        let rtype: u16 = match rec {
            Rec::Txt(txt) => {
                for chunk in txt.as_bytes().chunks(255) {
                    rdata.push(chunk.len() as u8);
                    rdata.extend_from_slice(chunk);
                }
                16
            }
            Rec::Mx(pref, exchange) => {
                rdata.extend_from_slice(&pref.to_be_bytes());
                rdata.extend_from_slice(&wire_name(exchange));
                15
            }
            Rec::Ip(IpAddr::V4(a)) => {
                rdata.extend_from_slice(&a.octets());
                1
            }
            Rec::Ip(IpAddr::V6(a)) => {
                rdata.extend_from_slice(&a.octets());
                28
            }
            Rec::Ptr(n) => {
                rdata.extend_from_slice(&wire_name(n));
                12
            }
            Rec::Srv(p, w, port, target) => {
                rdata.extend_from_slice(&p.to_be_bytes());
                rdata.extend_from_slice(&w.to_be_bytes());
                rdata.extend_from_slice(&port.to_be_bytes());
                rdata.extend_from_slice(&wire_name(target));
                33
            }
            Rec::Cname(target) => {
                rdata.extend_from_slice(&wire_name(target));
                5
            }
        };
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}
