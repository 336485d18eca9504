//! Connection admission for every listener (SMTP, submission, HTTPS): open connections in
//! total and per IP address, and a per-IP rate of new connections (a token bucket refilled
//! continuously). A refused SMTP connection gets one 421 line (RFC 5321 §3.8: the server may
//! close with 421 when it cannot serve); a refused HTTPS connection is closed before the TLS
//! handshake. Either way a flood costs a socket for a moment, never a session.

use crate::rate::TokenBucket;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Entries kept for rate limiting before idle ones are pruned (bounds memory under a flood
/// from many addresses).
const PRUNE_ABOVE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyConnections,
    TooManyFromIp,
    RateLimited,
}

impl Refusal {
    pub fn reply(&self) -> &'static str {
        match self {
            Refusal::TooManyConnections => "421 4.7.0 Too many connections, try again later\r\n",
            Refusal::TooManyFromIp => {
                "421 4.7.0 Too many connections from your address, try again later\r\n"
            }
            Refusal::RateLimited => {
                "421 4.7.0 Too many connections from your address per minute, try again later\r\n"
            }
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::TooManyConnections => "connection limit reached",
            Refusal::TooManyFromIp => "per-IP connection limit reached",
            Refusal::RateLimited => "per-IP connection rate exceeded",
        }
    }
}

struct PerIp {
    open: usize,
    rate: TokenBucket,
}

struct Inner {
    open: usize,
    ips: HashMap<IpAddr, PerIp>,
}

pub struct Limits {
    max_total: usize,
    max_per_ip: usize,
    per_minute: u32,
    /// Networks held only to the total (Postfix exempts `$mynetworks` from its per-client
    /// limits the same way): a local application that opens a connection per message.
    exempt: Vec<crate::net_guard::Cidr>,
    inner: Mutex<Inner>,
}

/// Held for the life of an admitted connection; releases its slot when dropped.
pub struct Permit {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut g = self.limits.lock();
        g.open = g.open.saturating_sub(1);
        if let Some(p) = g.ips.get_mut(&self.ip) {
            p.open = p.open.saturating_sub(1);
        }
    }
}

impl Limits {
    pub fn new(max_total: usize, max_per_ip: usize, per_minute: u32) -> Arc<Limits> {
        Limits::exempting(max_total, max_per_ip, per_minute, Vec::new())
    }

    /// The same limits, with `exempt` networks held only to the total.
    pub fn exempting(
        max_total: usize,
        max_per_ip: usize,
        per_minute: u32,
        exempt: Vec<crate::net_guard::Cidr>,
    ) -> Arc<Limits> {
        Arc::new(Limits {
            max_total,
            max_per_ip,
            per_minute,
            exempt,
            inner: Mutex::new(Inner {
                open: 0,
                ips: HashMap::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a new connection from `ip`, or says why not.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        let exempt = self.exempt.iter().any(|c| c.contains(ip));
        let ip = crate::login::client_key(ip);
        let now = Instant::now();
        let mut g = self.lock();
        if g.ips.len() > PRUNE_ABOVE {
            let full = f64::from(self.per_minute.max(1));
            g.ips
                .retain(|_, p| p.open > 0 || !p.rate.full_by(now, full, full));
        }
        if g.open >= self.max_total {
            return Err(Refusal::TooManyConnections);
        }
        let burst = f64::from(self.per_minute.max(1));
        let p = g.ips.entry(ip).or_insert(PerIp {
            open: 0,
            rate: TokenBucket::full(burst, now),
        });
        if p.open >= self.max_per_ip && !exempt {
            return Err(Refusal::TooManyFromIp);
        }
        if self.per_minute > 0 && !exempt && !p.rate.take(now, burst, burst) {
            return Err(Refusal::RateLimited);
        }
        p.open += 1;
        g.open += 1;
        Ok(Permit {
            limits: self.clone(),
            ip,
        })
    }

    pub fn open(&self) -> usize {
        self.lock().open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net_guard::Cidr;

    #[test]
    fn totals_per_ip_and_rate() {
        let l = Limits::new(3, 2, 0);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let p1 = l.admit(a).unwrap();
        let _p2 = l.admit(a).unwrap();
        assert_eq!(l.admit(a).err(), Some(Refusal::TooManyFromIp));
        let _p3 = l.admit(b).unwrap();
        assert_eq!(l.admit(b).err(), Some(Refusal::TooManyConnections));
        drop(p1);
        assert!(l.admit(a).is_ok());

        let r = Limits::new(100, 100, 2);
        let _x = r.admit(a).unwrap();
        let _y = r.admit(a).unwrap();
        assert_eq!(r.admit(a).err(), Some(Refusal::RateLimited));
        assert!(r.admit(b).is_ok(), "the rate is per address");

        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let trusting = Limits::exempting(3, 1, 1, vec![Cidr::parse("127.0.0.0/8").unwrap()]);
        let held: Vec<_> = (0..3).map(|_| trusting.admit(local)).collect();
        assert!(
            held.iter().all(Result::is_ok),
            "exempt from per-IP count and rate"
        );
        assert_eq!(
            trusting.admit(local).err(),
            Some(Refusal::TooManyConnections),
            "but not from the total"
        );
        let v6 = Limits::new(100, 1, 0);
        let _p = v6.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert_eq!(
            v6.admit("2001:db8::ffff".parse().unwrap()).err(),
            Some(Refusal::TooManyFromIp),
            "one /64 counts as one client"
        );
        assert!(v6.admit("2001:db8:0:1::1".parse().unwrap()).is_ok());
    }
}
