//! Issue 13, finding 3: the submission port was an open door for password guessing. No
//! connection limits (one IP held 150 of 150 connections), only a per-connection limit on failed
//! AUTH (100 parallel connections got 34–54 wrong-password answers a second), no lockout, faster
//! answers for unknown addresses, and RSS went from 15 MB to 3.6 GB (parallel argon2 hashes).
//!
//! Now every door (JMAP Basic, the admin page, SMTP AUTH) goes through one login limiter
//! (`src/login.rs`): a failure budget per client and per account, checked before any hash; the
//! same path for unknown names; at most two hashes at once. The submission port admits
//! connections like port 25 (`smtp/limits.rs`) and honours `smtp_max_errors`.
//!
//! Run with `-- --nocapture` to see the figures (answers per second, RSS).

use crate::common;
use crate::core_common;
use crate::smtp_support;
use base64::Engine;
use common::{Server, code, rss_kb};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery staple";

/// One SMTP submission conversation after STARTTLS.
struct Sub {
    r: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

fn read_reply(r: &mut impl BufRead) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return all,
            Ok(_) => {}
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return all;
        }
    }
}

/// Connects to the submission port and starts TLS; `Err` holds the greeting if it was not 220.
fn submission(addr: SocketAddr) -> Result<Sub, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut plain = BufReader::new(tcp.try_clone().expect("clone"));
    let greeting = read_reply(&mut plain);
    if code(&greeting) != 220 {
        return Err(greeting);
    }
    let mut w = tcp.try_clone().expect("clone");
    w.write_all(b"EHLO client.example\r\n").expect("ehlo");
    read_reply(&mut plain);
    w.write_all(b"STARTTLS\r\n").expect("starttls");
    let r = read_reply(&mut plain);
    assert_eq!(code(&r), 220, "STARTTLS: {r}");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(core_common::client_config(), name).expect("client");
    let mut s = Sub {
        r: BufReader::new(StreamOwned::new(conn, tcp)),
    };
    let ehlo = s.cmd("EHLO client.example");
    assert!(ehlo.contains("AUTH"), "{ehlo}");
    Ok(s)
}

impl Sub {
    fn cmd(&mut self, line: &str) -> String {
        if self
            .r
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .is_err()
        {
            return String::new();
        }
        let _ = self.r.get_mut().flush();
        read_reply(&mut self.r)
    }

    fn auth(&mut self, user: &str, pass: &str) -> String {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
        self.cmd(&format!("AUTH PLAIN {b}"))
    }
}

/// A reqwest client whose connections come from `ip` (any 127.0.0.0/8 address reaches the
/// server on 127.0.0.1), so one test can play several clients.
fn http_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address(IpAddr::from(ip))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// GET the JMAP session as `user`; returns (status, Retry-After).
async fn session(s: &Server, from: [u8; 4], user: &str, pass: &str) -> (u16, Option<u64>) {
    let res = http_from(from)
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(user, Some(pass))
        .send()
        .await
        .expect("session");
    let retry = res
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (res.status().as_u16(), retry)
}

#[test]
fn parallel_failed_auth_on_submission_is_throttled_and_memory_stays_bounded() {
    const CONNECTIONS: usize = 100;
    // Room for all 100 connections, so the login limiter (not the connection limit) answers.
    let s = smtp_support::start(
        "smtp_max_connections = 400\nsmtp_max_connections_per_ip = 200\n\
         smtp_connections_per_minute_per_ip = 100000\n",
        &[],
    );
    s.add_user(USER, PASS);
    let pid = s.pid().expect("pid");
    let before = rss_kb(pid);
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let codes = Arc::new(Mutex::new(Vec::<u16>::new()));
    let started = Instant::now();
    let addr = s.submission;
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let codes = codes.clone();
            std::thread::spawn(move || {
                let Ok(mut sub) = submission(addr) else {
                    return;
                };
                // Up to three guesses per connection (the per-connection limit), alternating a
                // real and an unknown address.
                for n in 0..3 {
                    let user = if (i + n) % 2 == 0 {
                        USER.to_string()
                    } else {
                        format!("nobody{i}@example.org")
                    };
                    let c = code(&sub.auth(&user, &format!("guess {i} {n}")));
                    codes.lock().unwrap().push(c);
                    if c != 535 {
                        break;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let elapsed = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    let codes = codes.lock().unwrap().clone();
    let wrong = codes.iter().filter(|c| **c == 535).count();
    let throttled = codes.iter().filter(|c| **c == 454).count();
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "submission AUTH burst: {CONNECTIONS} connections, {} answers in {elapsed:.1} s \
         ({:.1}/s): {wrong} x 535 (checked), {throttled} x 454 (too many attempts, no hash); \
         RSS {before} kB idle -> peak {peak} kB",
        codes.len(),
        codes.len() as f64 / elapsed,
    );
    assert!(throttled > 0, "the limiter answered 454: {codes:?}");
    // The client budget is 10 failures; with two hashes in flight when it runs out and a
    // trickle of refill, a handful more. Before: 3 per connection, 300 in all.
    assert!(wrong <= 16, "{wrong} guesses were checked");
    // Before: 3.6 GB. Two reused 7 MiB hash buffers plus 100 TLS sessions: ~50 MB measured.
    assert!(peak < 128 * 1024, "peak RSS {peak} kB");

    // The client is locked out now, even with the right password, on every door.
    let mut sub = submission(addr).expect("connect");
    let r = sub.auth(USER, PASS);
    assert_eq!(code(&r), 454, "{r}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (status, retry) = rt.block_on(session(&s, [127, 0, 0, 1], USER, PASS));
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|r| r >= 1), "{retry:?}");
}

#[test]
fn submission_port_limits_connections_per_ip_and_errors() {
    let s = smtp_support::start("smtp_max_errors = 2\n", &[]);
    // Port 25's default: 20 connections per client address.
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut t = TcpStream::connect(s.submission).expect("connect");
        t.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut r = BufReader::new(t.try_clone().expect("clone"));
        assert_eq!(code(&read_reply(&mut r)), 220);
        t.write_all(b"NOOP\r\n").expect("noop");
        assert_eq!(code(&read_reply(&mut r)), 250);
        held.push(t);
    }
    let extra = TcpStream::connect(s.submission).expect("connect");
    extra
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let refused = read_reply(&mut BufReader::new(extra));
    assert_eq!(code(&refused), 421, "{refused}");
    println!(
        "21st submission connection from one address: {}",
        refused.trim_end()
    );
    // A slot frees when a connection ends.
    drop(held.pop());
    // The slot is released when the server notices the close: retry for a while.
    let ok = (0..100)
        .find_map(|_| {
            let t = TcpStream::connect(s.submission).ok()?;
            t.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
            let g = read_reply(&mut BufReader::new(t.try_clone().ok()?));
            if code(&g) == 220 {
                return Some(t);
            }
            std::thread::sleep(Duration::from_millis(50));
            None
        })
        .expect("a slot frees when a connection closes");
    drop(held);

    // smtp_max_errors = 2: the third error closes the connection with 421.
    let mut t = ok;
    let mut r = BufReader::new(t.try_clone().expect("clone"));
    let mut got = Vec::new();
    for _ in 0..3 {
        t.write_all(b"BOGUS\r\n").expect("write");
        got.push(code(&read_reply(&mut r)));
    }
    assert_eq!(got, vec![501, 501, 421], "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_budget_for_jmap_admin_and_smtp_per_client_and_per_account() {
    let s = Server::start();
    s.add_user(USER, PASS);
    s.add_user("bob@example.org", "bob's password here");
    let me = [127, 0, 0, 1];

    // Ten wrong passwords over JMAP from one client: 401 each.
    for i in 0..10 {
        let (st, _) = session(&s, me, USER, &format!("wrong {i}")).await;
        assert_eq!(st, 401, "attempt {i}");
    }
    // Then even the right one is refused, without a hash, with Retry-After.
    let (st, retry) = session(&s, me, USER, PASS).await;
    assert_eq!(st, 429);
    assert!(retry.is_some_and(|r| (1..=60).contains(&r)), "{retry:?}");
    // The same budget on the admin API (Basic of the admin) and on SMTP AUTH.
    let admin = http_from(me)
        .get(format!("{}/admin/api/status", s.base_url()))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .expect("admin");
    assert_eq!(admin.status().as_u16(), 429);
    let addr = s.submission;
    let smtp = tokio::task::spawn_blocking(move || {
        let mut sub = submission(addr).expect("connect");
        sub.auth(USER, PASS)
    })
    .await
    .expect("smtp");
    assert_eq!(code(&smtp), 454, "{smtp}");

    // Another client is not affected.
    assert_eq!(session(&s, [127, 0, 0, 2], USER, PASS).await.0, 200);

    // Per account: bob is guessed from four clients, five times each (under each client's
    // budget). His account's budget (20) is then spent: a new client with the right password
    // is refused for a while.
    for ip in 3..7u8 {
        for i in 0..5 {
            // Distinct guesses: the same wrong password again spends no budget (see below).
            let (st, _) = session(
                &s,
                [127, 0, 0, ip],
                "bob@example.org",
                &format!("x{ip}-{i}"),
            )
            .await;
            assert_eq!(st, 401);
        }
    }
    let (st, retry) = session(&s, [127, 0, 0, 9], "bob@example.org", "bob's password here").await;
    assert_eq!(st, 429, "bob's account is locked for new logins");
    assert!(retry.is_some_and(|r| r >= 1));
    // An unknown name goes the same way (same budget, same dummy-hash path).
    for ip in 10..14u8 {
        for i in 0..5 {
            let (st, _) = session(
                &s,
                [127, 0, 0, ip],
                "ghost@example.org",
                &format!("x{ip}-{i}"),
            )
            .await;
            assert_eq!(st, 401);
        }
    }
    assert_eq!(
        session(&s, [127, 0, 0, 15], "ghost@example.org", "anything")
            .await
            .0,
        429
    );
    let log = s.log();
    assert!(
        log.contains("login: unknown user \"ghost@example.org\""),
        "{log}"
    );
    assert!(log.contains("login: wrong password for bob@example.org"));
    assert!(log.contains("login: throttled account"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_known_users_spend_the_same_budget() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let me = [127, 0, 0, 1];
    // Five failures for an address that does not exist, five for one that does: one budget.
    for i in 0..5 {
        assert_eq!(
            session(&s, me, &format!("nobody{i}@example.org"), "pw")
                .await
                .0,
            401
        );
        assert_eq!(session(&s, me, USER, &format!("wrong {i}")).await.0, 401);
    }
    assert_eq!(session(&s, me, "nobody@example.org", "pw").await.0, 429);
    assert_eq!(session(&s, me, USER, PASS).await.0, 429);
    let log = s.log();
    assert_eq!(log.matches("login: unknown user").count(), 5, "{log}");
    assert_eq!(log.matches("login: wrong password").count(), 5, "{log}");
}

/// Found by trying it (after the limiter landed): a phone still sending the old password made
/// every account behind the same address answer 429 for good, and a client that was signed in
/// was locked out five minutes after its last full check while someone guessed its account.
/// Now the same wrong password again costs no budget, a recent success keeps working from the
/// client it came from, and a throttled client elsewhere still learns nothing from a guess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_client_locks_out_nobody_and_signed_in_clients_keep_working() {
    let s = Server::start();
    s.add_user(USER, PASS);
    s.add_user("bob@example.org", "bob's password here");
    s.add_user("carol@example.org", "carol's password here");
    s.add_user("dave@example.org", "dave's password here");
    let home = [127, 0, 0, 20];
    // A stale phone: the same old password, far more often than the budget of 10.
    for _ in 0..15 {
        assert_eq!(session(&s, home, USER, "the old password").await.0, 401);
    }
    // The rest of the household still signs in from the same address.
    assert_eq!(
        session(&s, home, "bob@example.org", "bob's password here")
            .await
            .0,
        200,
        "one stale client must not lock out its address"
    );
    // Carol signs in at home and from her office.
    let office = [127, 0, 0, 21];
    assert_eq!(
        session(&s, home, "carol@example.org", "carol's password here")
            .await
            .0,
        200
    );
    // Real guessing from home spends the address's budget: ten different wrong passwords.
    for i in 0..10 {
        session(&s, home, "bob@example.org", &format!("guess {i}")).await;
    }
    assert_eq!(
        session(&s, home, "dave@example.org", "dave's password here")
            .await
            .0,
        429,
        "a guessing address is throttled, even with a right password not used there before"
    );
    // Carol's client at home, already signed in, keeps working...
    assert_eq!(
        session(&s, home, "carol@example.org", "carol's password here")
            .await
            .0,
        200
    );
    // ...but the throttled address gets no answer about a password that succeeded elsewhere.
    let guesser = [127, 0, 0, 22];
    assert_eq!(
        session(&s, office, "carol@example.org", "carol's password here")
            .await
            .0,
        200
    );
    for i in 0..10 {
        session(&s, guesser, "nobody@example.org", &format!("g{i}")).await;
    }
    assert_eq!(
        session(&s, guesser, "carol@example.org", "carol's password here")
            .await
            .0,
        429,
        "a throttled client must not test passwords against the cache"
    );
    let log = s.log();
    assert_eq!(
        log.matches("wrong password for alice@example.org").count(),
        1,
        "the stale password was checked once: {log}"
    );
}

/// Found in review: once an account's budget was spent, a fresh address could test passwords
/// against the success cache for free (a wrong one cost nothing, the right one got in). Now a
/// cache hit past a spent account budget counts only from the client that signed in, and a
/// miss there spends the client's own budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_account_budget_is_no_password_oracle() {
    let s = Server::start();
    s.add_user("erin@example.org", "erin's password here");
    let owner = [127, 0, 0, 30];
    assert_eq!(
        session(&s, owner, "erin@example.org", "erin's password here")
            .await
            .0,
        200
    );
    // Twenty different guesses from two addresses spend erin's account budget.
    for (n, ip) in [31u8, 32].into_iter().enumerate() {
        for i in 0..10 {
            session(
                &s,
                [127, 0, 0, ip],
                "erin@example.org",
                &format!("g{n}-{i}"),
            )
            .await;
        }
    }
    // Her own client keeps working...
    assert_eq!(
        session(&s, owner, "erin@example.org", "erin's password here")
            .await
            .0,
        200
    );
    // ...but from a fresh address the right password is refused like any guess, and guesses
    // there spend that address's budget: after ten, it is throttled for everything.
    let fresh = [127, 0, 0, 33];
    assert_eq!(
        session(&s, fresh, "erin@example.org", "erin's password here")
            .await
            .0,
        429
    );
    for i in 0..10 {
        session(&s, fresh, "erin@example.org", &format!("free guess {i}")).await;
    }
    s.add_user("frank@example.org", "frank's password here");
    assert_eq!(
        session(&s, fresh, "frank@example.org", "frank's password here")
            .await
            .0,
        429,
        "the guessing address spent its own budget"
    );
    // The admin page counts what the door did: hashes run, and attempts refused unchecked.
    let status: serde_json::Value = http_from([127, 0, 0, 40])
        .get(format!("{}/admin/api/status", s.base_url()))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("status json");
    let checked = status["logins_checked"].as_u64().expect("logins_checked");
    let refused = status["logins_refused"].as_u64().expect("logins_refused");
    assert!(checked >= 20 && refused >= 2, "{status}");
}
