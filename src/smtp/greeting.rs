//! Who waits for the greeting (issue #20). The early-talker check (RFC 5321 §3.1: a client
//! waits for the 220) costs every connection `smtp_greeting_delay_ms`; a sender that opens a
//! connection per message was held to ~3 messages a second by it. As Postfix's postscreen does,
//! a client that once waited properly is remembered for `smtp_greeting_pass_secs` (a day) and
//! greeted at once afterwards, and `smtp_greeting_trusted` networks (loopback by default) are
//! never delayed.
//!
//! Bounded: at most [`MAX_REMEMBERED`] clients are remembered; when full, expired entries go
//! first, then arbitrary ones (a forgotten client only waits once more). IPv6 clients are
//! remembered by /64, the block one host usually holds.

use crate::login::client_key;
use crate::net_guard::Cidr;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_REMEMBERED: usize = 65_536;

pub struct GreetingGate {
    delay: Duration,
    trusted: Vec<Cidr>,
    pass_for: Duration,
    passed: Mutex<HashMap<IpAddr, Instant>>,
}

impl GreetingGate {
    /// `trusted` was checked by [`check_trusted`] when the config was validated.
    pub fn new(delay: Duration, trusted: &[String], pass_for: Duration) -> Self {
        GreetingGate {
            delay,
            trusted: trusted.iter().filter_map(|c| Cidr::parse(c).ok()).collect(),
            pass_for,
            passed: Mutex::new(HashMap::new()),
        }
    }

    /// The trusted networks (also exempt from the per-IP connection limits, `smtp/mod.rs`).
    pub fn trusted(&self) -> &[Cidr] {
        &self.trusted
    }

    /// How long to wait before greeting this client: zero for trusted networks and clients
    /// that passed recently.
    pub fn delay_for(&self, ip: IpAddr) -> Duration {
        if self.delay.is_zero() || self.trusted.iter().any(|c| c.contains(ip)) {
            return Duration::ZERO;
        }
        let key = client_key(ip);
        let passed = self.passed.lock().unwrap_or_else(|p| p.into_inner());
        match passed.get(&key) {
            Some(at) if at.elapsed() < self.pass_for => Duration::ZERO,
            _ => self.delay,
        }
    }

    /// The client waited for the greeting: remember it.
    pub fn pass(&self, ip: IpAddr) {
        let mut passed = self.passed.lock().unwrap_or_else(|p| p.into_inner());
        if passed.len() >= MAX_REMEMBERED {
            let pass_for = self.pass_for;
            passed.retain(|_, at| at.elapsed() < pass_for);
            if passed.len() >= MAX_REMEMBERED
                && let Some(k) = passed.keys().next().copied()
            {
                passed.remove(&k);
            }
        }
        passed.insert(client_key(ip), Instant::now());
    }

    /// How many clients are remembered (for tests and the admin page).
    pub fn remembered(&self) -> usize {
        self.passed.lock().map(|p| p.len()).unwrap_or(0)
    }
}

/// Config validation: every `smtp_greeting_trusted` entry is an address or CIDR block.
pub fn check_trusted(trusted: &[String]) -> Result<(), String> {
    for c in trusted {
        Cidr::parse(c).map_err(|e| format!("smtp_greeting_trusted: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_client_never_for_trusted() {
        let g = GreetingGate::new(
            Duration::from_millis(300),
            &["127.0.0.0/8".into(), "::1".into()],
            Duration::from_secs(86_400),
        );
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let ext: IpAddr = "192.0.2.7".parse().unwrap();
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        assert_eq!(g.delay_for(lo), Duration::ZERO);
        assert_eq!(g.delay_for(ext), Duration::from_millis(300));
        g.pass(ext);
        assert_eq!(g.delay_for(ext), Duration::ZERO);
        g.pass(v6a);
        assert_eq!(g.delay_for(v6b), Duration::ZERO, "same /64");
        // Bounded however many clients pass.
        for i in 0..(MAX_REMEMBERED as u32 + 10) {
            g.pass(IpAddr::V4(std::net::Ipv4Addr::from(i)));
        }
        assert!(g.remembered() <= MAX_REMEMBERED);
        assert!(check_trusted(&["nonsense".into()]).is_err());
        assert!(check_trusted(&["10.0.0.0/8".into(), "fd00::/8".into()]).is_ok());
    }
}
