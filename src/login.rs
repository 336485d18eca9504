//! The one login door (DESIGN.md "One login door"): every password check — JMAP over HTTP
//! Basic, the admin sign-in and its API, SMTP AUTH on the submission port — goes through
//! [`Login::check_password`], so they share one failure budget and one cap on memory.
//!
//! **Failure budget.** Two token buckets: one per client (IPv4 address or IPv6 /64) and one per
//! login name (known or not). Each holds `burst` failures and refills continuously at
//! `per_minute`. A failed check takes a token from both; a successful one takes none. When
//! either bucket is empty the answer is "too many attempts" (`Throttled` with the time until a
//! token is back: SMTP 454 4.7.0, HTTP 429 + Retry-After) *without hashing*: an empty client
//! bucket refuses even the right password (guessing must not be able to test it), except
//! credentials that succeeded within `CACHE_TTL` *from that same client* (the rest of a
//! household behind one address keeps its running clients); an empty account bucket refuses
//! new logins to that account from anywhere, except credentials that already succeeded within
//! `CACHE_TTL` (the owner's running clients keep working while someone else guesses). The same
//! wrong password again (same name, password and stored hash, within `CACHE_TTL`) is answered
//! `Denied` without a hash and spends no budget: a phone still sending an old password is not a
//! guesser and must not lock out its address. Bearer tokens and other credentials call [`Login::admit`] before their check
//! and [`Login::failed`] after a wrong one, so they join the same budget.
//!
//! **Same work for unknown users.** An unknown name is verified against a dummy hash made with
//! the same parameters, through the same queue and the same buckets, so neither the answer
//! nor its timing says which addresses exist.
//!
//! **Bounded hashing.** An argon2 verification takes ~7 MiB for tens of milliseconds
//! (`password.rs`). At most `hash_concurrency` run at once (a semaphore), each on a blocking
//! thread (`crate::pool::unblock`) with one of `hash_concurrency` reused memory buffers; up to `hash_queue` more wait their turn and beyond that the answer
//! is a temporary failure (`Throttled` for a second). The budget is checked again once a
//! waiter gets its turn, so a burst of parallel guesses from one client costs at most `burst`
//! + `hash_concurrency` hashes, not one per connection.
//!
//! **Cache.** A JMAP client sends its password with every request; a success is cached for
//! `CACHE_TTL` after its last use (sliding), keyed by the SHA-256 of name and password (never
//! the password), and only while the stored hash is unchanged (a password change or deletion
//! takes effect at once).
//!
//! **Scopes and app passwords** (issue #15). [`Scope::Mail`] — JMAP Basic, the WebSocket, SMTP
//! AUTH, i.e. [`Login::check_password`] — accepts the account password or one of the account's
//! app passwords (`app_passwords.rs`: a password of that shape is checked against the one app
//! password its selector names, never against every one). [`Scope::Account`] — the admin page,
//! changing the main password: [`Login::check_account_password`] — accepts the account password
//! only. Both share the budgets, queue and cache above; a cached success remembers the hash it
//! was checked against, so a revoked app password stops working at once, and a success of an app
//! password never opens the account scope. An app password's use (time, address) is written to
//! the store at most once a minute per app password, off the request's path.

use crate::rate::TokenBucket;
use crate::store::Store;
use crate::store::model::{Account, AccountId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CACHE_TTL: Duration = Duration::from_secs(300);
/// Entries per map before idle ones are pruned (bounds memory under a flood of names or IPs).
const PRUNE_ABOVE: usize = 10_000;
/// How long a caller is told to wait when the hash queue is full.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// The limiter's numbers. The defaults: 10 failures per client and 20 per account, each
/// refilling at 2 a minute (so a client can guess ~3000 times a day at most, an account is
/// guessed at most ~3000 times a day however many clients try); 2 hashes at once, 64 waiting.
#[derive(Debug, Clone)]
pub struct Policy {
    pub ip_burst: u32,
    pub ip_per_minute: f64,
    pub account_burst: u32,
    pub account_per_minute: f64,
    pub hash_concurrency: usize,
    pub hash_queue: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            ip_burst: 10,
            ip_per_minute: 2.0,
            account_burst: 20,
            account_per_minute: 2.0,
            hash_concurrency: 2,
            hash_queue: 64,
        }
    }
}

/// The answer to a login attempt.
#[derive(Debug)]
pub enum Outcome {
    Ok(Account),
    /// Wrong name or password (the same answer for both).
    Denied,
    /// Too many failures (client or account), or too many checks waiting: try again after
    /// the duration, which is at least one second.
    Throttled(Duration),
}

/// The answer to a Bearer token check ([`Login::check_token`]).
#[derive(Debug)]
pub enum TokenOutcome {
    Ok(Account),
    /// Wrong, expired or revoked (RFC 6750 §3.1 `invalid_token`); the reason for the answer.
    Invalid(crate::tokens::Invalid),
    Throttled(Duration),
}

/// One family of buckets (per client or per account).
struct Buckets<K> {
    burst: f64,
    per_minute: f64,
    map: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(burst: u32, per_minute: f64) -> Self {
        Buckets {
            burst: f64::from(burst.max(1)),
            per_minute: per_minute.max(0.01),
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, TokenBucket>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// None when a failure may still be spent; else how long until one may.
    fn wait(&self, key: &K) -> Option<Duration> {
        let now = Instant::now();
        let mut m = self.lock();
        let b = m.get_mut(key)?;
        b.refill(now, self.burst, self.per_minute);
        if b.tokens >= 1.0 {
            return None;
        }
        let secs = (1.0 - b.tokens) * 60.0 / self.per_minute;
        Some(Duration::from_secs_f64(secs.ceil().max(1.0)))
    }

    fn refund(&self, key: &K) {
        let now = Instant::now();
        let mut m = self.lock();
        if let Some(b) = m.get_mut(key) {
            b.refill(now, self.burst, self.per_minute);
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }

    fn spend(&self, key: &K) {
        let now = Instant::now();
        let mut m = self.lock();
        if m.len() > PRUNE_ABOVE {
            let (burst, rate) = (self.burst, self.per_minute);
            m.retain(|_, b| {
                b.refill(now, burst, rate);
                b.tokens < burst
            });
        }
        let b = m
            .entry(key.clone())
            .or_insert(TokenBucket::full(self.burst, now));
        b.refill(now, self.burst, self.per_minute);
        b.tokens = (b.tokens - 1.0).max(0.0);
    }
}

/// Which credentials a door accepts (module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Mail clients: the account password or an app password.
    Mail,
    /// The account itself (admin page, password change): the account password only.
    Account,
}

/// A recent success: the account, the hash it was checked against, the app password's id
/// (None: the account password), when it was last used, and the client it last came from.
struct Success {
    account: Account,
    verifier: String,
    app: Option<String>,
    at: Instant,
    from: Option<IpAddr>,
}

/// How often an app password's last use is written to the store.
const USE_WRITE_EVERY: Duration = Duration::from_secs(60);

pub struct Login {
    policy: Policy,
    ips: Buckets<IpAddr>,
    accounts: Buckets<String>,
    /// Recent successes by credential key.
    cache: Mutex<HashMap<[u8; 32], Success>>,
    /// When each app password's use was last written (`USE_WRITE_EVERY`).
    uses: Mutex<HashMap<(AccountId, String), Instant>>,
    /// Recent failures, keyed by name, password and the stored hash they failed against: a
    /// client retrying the same stale password is answered without a hash and spends no budget.
    failures: Mutex<HashMap<[u8; 32], Instant>>,
    hashes: std::sync::Arc<smol::lock::Semaphore>,
    /// argon2 memory, one buffer per hash slot, reused (`password::verify_with`).
    memory: Mutex<Vec<Vec<argon2::Block>>>,
    /// Checks waiting for or holding a hash slot.
    queued: AtomicUsize,
    /// Figures for the admin page and the log.
    pub stats: Stats,
}

#[derive(Default)]
pub struct Stats {
    pub hashes: AtomicUsize,
    pub throttled: AtomicUsize,
    pub busy: AtomicUsize,
}

impl Default for Login {
    fn default() -> Self {
        Login::new(Policy::default())
    }
}

/// Decrements the queue count however the check ends (including a dropped future).
struct Queued<'a>(&'a AtomicUsize);
impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Login {
    pub fn new(policy: Policy) -> Login {
        Login {
            ips: Buckets::new(policy.ip_burst, policy.ip_per_minute),
            accounts: Buckets::new(policy.account_burst, policy.account_per_minute),
            cache: Mutex::new(HashMap::new()),
            uses: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            hashes: std::sync::Arc::new(smol::lock::Semaphore::new(policy.hash_concurrency.max(1))),
            memory: Mutex::new(Vec::new()),
            queued: AtomicUsize::new(0),
            stats: Stats::default(),
            policy,
        }
    }

    /// Whether a credential check from `ip` for `name` may run now; `Err` carries how long to
    /// wait. For credentials that are not passwords (tokens): call before checking.
    pub fn admit(&self, ip: Option<IpAddr>, name: Option<&str>) -> Result<(), Duration> {
        let by_ip = ip.and_then(|ip| self.ips.wait(&client_key(ip)));
        let by_name = name.and_then(|n| self.accounts.wait(&n.to_lowercase()));
        match by_ip.into_iter().chain(by_name).max() {
            Some(d) => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                Err(d)
            }
            None => Ok(()),
        }
    }

    /// Records a failed check (spends a token of the client and of the name).
    pub fn failed(&self, ip: Option<IpAddr>, name: Option<&str>) {
        if let Some(ip) = ip {
            self.ips.spend(&client_key(ip));
        }
        if let Some(n) = name {
            self.accounts.spend(&n.to_lowercase());
        }
    }

    /// Gives back the tokens a successful check spent up front.
    fn refund(&self, ip: Option<IpAddr>, name: &str) {
        if let Some(ip) = ip {
            self.ips.refund(&client_key(ip));
        }
        self.accounts.refund(&name.to_lowercase());
    }

    /// Drops cached logins (after a password change or account deletion).
    pub fn forget_all(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Checks a Bearer token (RFC 6750) of `kind`: the client's failure budget is asked first
    /// and spent on a token that is not accepted, as for a wrong password (no name is known, so
    /// only the client's budget). No hash queue: a token is one SHA-256 and one lookup.
    pub async fn check_token(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        token: &str,
        kind: crate::store::TokenKind,
    ) -> TokenOutcome {
        if let Err(d) = self.admit(ip, None) {
            return TokenOutcome::Throttled(d);
        }
        match crate::tokens::check(store, token, kind).await {
            Ok(Ok((account, _))) => TokenOutcome::Ok(account),
            Ok(Err(why)) => {
                self.failed(ip, None);
                log::info!(
                    "token refused from {} ({})",
                    crate::logging::Peer(ip),
                    why.describe()
                );
                TokenOutcome::Invalid(why)
            }
            Err(e) => {
                log::error!("store error: {e}");
                TokenOutcome::Throttled(BUSY_RETRY)
            }
        }
    }

    /// Checks a login name and a password or app password ([`Scope::Mail`]: mail clients).
    pub async fn check_password(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
    ) -> Outcome {
        self.check(store, ip, user, pass, Scope::Mail).await
    }

    /// Checks a login name and the account password only ([`Scope::Account`]: the admin page,
    /// changing the password). App passwords are refused here.
    pub async fn check_account_password(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
    ) -> Outcome {
        self.check(store, ip, user, pass, Scope::Account).await
    }

    /// Checks a login name and password in a scope. See the module header for the order of
    /// checks.
    pub async fn check(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
        scope: Scope,
    ) -> Outcome {
        let by_ip = ip.map(client_key);
        let ip_wait = by_ip.and_then(|k| self.ips.wait(&k));
        let name = user.to_lowercase();
        let key = cache_key(&name, pass);
        // An app password's selector, when the scope admits them and it has the shape.
        let app = match scope {
            Scope::Mail => crate::app_passwords::parse(pass),
            Scope::Account => None,
        };
        // The account (and the app password its selector names) is read on every attempt (a
        // cheap redb read) so that a password change, a revocation or a deletion, from any path
        // (CLI, control socket, admin page), takes effect at once.
        let n2 = user.to_string();
        let selector = app.as_ref().map(|(id, _)| id.clone());
        let found = store
            .read(move |r| {
                let a = r.account_by_name(&n2)?;
                let p = match (&a, &selector) {
                    (Some(a), Some(id)) => r.app_password(a.id, id)?,
                    _ => None,
                };
                Ok((a, p))
            })
            .await;
        let (account, app_row) = match found {
            Ok(x) => x,
            Err(e) => {
                // The store cannot be read (recovering from a full disk): credentials that
                // succeeded recently still work, so the admin page can show what is wrong;
                // anything else must wait (no hash without the stored one).
                if let Some(a) = self.cached_any(&key, scope) {
                    return Outcome::Ok(a);
                }
                log::error!("store error: {e}");
                return Outcome::Throttled(BUSY_RETRY);
            }
        };
        // What the password is checked against: the app password its selector names, else the
        // account password. `material` is what was hashed (the canonical app password form).
        let (verifier, app_id, material) = match (&account, app_row, &app) {
            (Some(_), Some(row), Some((_, canonical))) => {
                (row.hash, Some(row.id), canonical.clone())
            }
            (Some(a), _, _) => (a.password_hash.clone(), None, pass.to_string()),
            (None, _, _) => (String::new(), None, pass.to_string()),
        };
        // The same wrong password again (a phone still using the old one): the same answer,
        // no hash and no budget spent, so one stale client cannot lock out its household. It
        // tells nobody anything new: that password is already known to be wrong.
        let fkey = failure_key(&name, pass, &verifier);
        if self.failed_recently(&fkey) {
            return Outcome::Denied;
        }
        let account_wait = self.accounts.wait(&name);
        // A credential that succeeded recently keeps working while *one* budget (its client's
        // address, or its account's) is spent by someone else, but only from the client it last
        // succeeded from; with both spent, nothing bypasses. Every cache miss on a throttled
        // path spends the other budget, so a throttled client cannot use the cache as a free
        // oracle for the right password (found in review).
        if let Some(a) = &account {
            let only_from = match (ip_wait.is_some(), account_wait.is_some()) {
                (false, false) => Some(None),
                (true, false) | (false, true) => Some(Some(by_ip)),
                (true, true) => None,
            };
            if let Some(only_from) = only_from
                && self.cached(&key, a, &verifier, only_from)
            {
                self.note_use(store, a.id, app_id.as_deref(), ip);
                return Outcome::Ok(a.clone());
            }
        }
        if let Some(d) = ip_wait {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            self.accounts.spend(&name);
            // Debug, not info: a flood of refused attempts must not flood the log too.
            log::debug!(
                "throttled client {peer} ({} s)",
                d.as_secs(),
                peer = crate::logging::Peer(ip)
            );
            return Outcome::Throttled(d);
        }
        if let Some(d) = account_wait {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            if let Some(k) = by_ip {
                self.ips.spend(&k);
            }
            log::debug!(
                "throttled account {:?} (from {peer}, {} s)",
                crate::wire::printable(user),
                d.as_secs(),
                peer = crate::logging::Peer(ip)
            );
            return Outcome::Throttled(d);
        }
        // Bounded queue for a hash slot.
        if self.queued.fetch_add(1, Ordering::SeqCst)
            >= self.policy.hash_concurrency + self.policy.hash_queue
        {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            let n = self.stats.busy.fetch_add(1, Ordering::Relaxed) + 1;
            // Logged at 1, 2, 4, 8... refusals: visible, but a flood does not flood the log.
            if n.is_power_of_two() {
                log::warn!(
                    "hash queue full ({n} refusals so far); e.g. {}",
                    crate::logging::Peer(ip)
                );
            }
            return Outcome::Throttled(BUSY_RETRY);
        }
        let _queued = Queued(&self.queued);
        // An owned permit: it moves into the hash job below, so a caller that goes away (the
        // client closed the connection) cannot free the slot while the hash still runs.
        let slot = self.hashes.acquire_arc().await;
        // While this check waited, others may have spent the budget or cached this login.
        if let Some(a) = &account
            && self.cached(&key, a, &verifier, None)
        {
            self.note_use(store, a.id, app_id.as_deref(), ip);
            return Outcome::Ok(a.clone());
        }
        if let Some(d) = self.admit(ip, Some(&name)).err() {
            return Outcome::Throttled(d);
        }
        let hash = verifier.clone();
        let p = material;
        self.stats.hashes.fetch_add(1, Ordering::Relaxed);
        // Spent before the hash and given back on success: a check cancelled half-way (the
        // client hung up, found in review) has paid for its hash like a failure.
        self.failed(ip, Some(&name));
        // A slot holds a semaphore permit, so at most `hash_concurrency` buffers exist.
        let mut memory = self
            .memory
            .lock()
            .ok()
            .and_then(|mut m| m.pop())
            .unwrap_or_default();
        let (ok, memory) = crate::pool::unblock(move || {
            let _slot = slot;
            // Unknown names are checked against a dummy hash: the same work, always false.
            let phc = if hash.is_empty() {
                dummy_hash()
            } else {
                hash.as_str()
            };
            let ok = crate::password::verify_with(&p, phc, &mut memory);
            (ok && !hash.is_empty(), memory)
        })
        .await;
        if let Ok(mut m) = self.memory.lock() {
            m.push(memory);
        }
        match account {
            Some(a) if ok => {
                self.refund(ip, &name);
                if let Ok(mut c) = self.cache.lock() {
                    if c.len() > 1000 {
                        c.retain(|_, s| s.at.elapsed() < CACHE_TTL);
                    }
                    c.insert(
                        key,
                        Success {
                            account: a.clone(),
                            verifier,
                            app: app_id.clone(),
                            at: Instant::now(),
                            from: by_ip,
                        },
                    );
                }
                self.note_use(store, a.id, app_id.as_deref(), ip);
                Outcome::Ok(a)
            }
            found => {
                if let Ok(mut f) = self.failures.lock() {
                    if f.len() > PRUNE_ABOVE {
                        f.retain(|_, at| at.elapsed() < CACHE_TTL);
                    }
                    f.insert(fkey, Instant::now());
                }
                match found {
                    Some(a) => log::info!(
                        "wrong password for {} from {}",
                        a.name,
                        crate::logging::Peer(ip)
                    ),
                    None => log::info!(
                        "unknown user {:?} from {}",
                        crate::wire::printable(user),
                        crate::logging::Peer(ip)
                    ),
                }
                Outcome::Denied
            }
        }
    }

    /// A recent success with these credentials, without comparing it to the store (an app
    /// password's success does not count for [`Scope::Account`]).
    fn cached_any(&self, key: &[u8; 32], scope: Scope) -> Option<Account> {
        let c = self.cache.lock().ok()?;
        c.get(key)
            .filter(|s| s.at.elapsed() < CACHE_TTL)
            .filter(|s| scope == Scope::Mail || s.app.is_none())
            .map(|s| s.account.clone())
    }

    /// Writes an app password's last use (time and address) to the store, at most once per
    /// `USE_WRITE_EVERY`, in the background: a JMAP client authenticates on every request.
    fn note_use(&self, store: &Store, acct: AccountId, app: Option<&str>, ip: Option<IpAddr>) {
        let Some(id) = app else { return };
        let key = (acct, id.to_string());
        let due = match self.uses.lock() {
            Ok(mut m) => {
                if m.len() > PRUNE_ABOVE {
                    m.retain(|_, at| at.elapsed() < USE_WRITE_EVERY);
                }
                match m.get(&key) {
                    Some(at) if at.elapsed() < USE_WRITE_EVERY => false,
                    _ => {
                        m.insert(key, Instant::now());
                        true
                    }
                }
            }
            Err(_) => false,
        };
        if !due {
            return;
        }
        let (store, id) = (store.clone(), id.to_string());
        let (at, ip) = (crate::date::now(), ip.map(|i| i.to_string()));
        smol::spawn(async move {
            if let Err(e) = store
                .write(move |w| w.touch_app_password(acct, &id, at, ip.clone()))
                .await
            {
                log::warn!("app password use not recorded: {e}");
            }
        })
        .detach();
    }

    /// Whether these credentials succeeded within `CACHE_TTL` against the stored hash; with
    /// `only_from`, only if that success came from that client. A hit slides the window: a
    /// client in use stays signed in (README: running clients keep working).
    fn cached(
        &self,
        key: &[u8; 32],
        account: &Account,
        verifier: &str,
        only_from: Option<Option<IpAddr>>,
    ) -> bool {
        // only_from: None = from any client; Some(client) = only if it last succeeded there.
        let Ok(mut c) = self.cache.lock() else {
            return false;
        };
        match c.get_mut(key) {
            Some(s)
                if s.at.elapsed() < CACHE_TTL
                    && s.account.password_hash == account.password_hash
                    && s.account.id == account.id
                    && s.verifier == verifier
                    && only_from.is_none_or(|client| client.is_some() && client == s.from) =>
            {
                s.at = Instant::now();
                true
            }
            _ => false,
        }
    }

    fn failed_recently(&self, key: &[u8; 32]) -> bool {
        self.failures
            .lock()
            .map(|f| f.get(key).is_some_and(|at| at.elapsed() < CACHE_TTL))
            .unwrap_or(false)
    }
}

fn cache_key(name: &str, pass: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(&[0]);
    ctx.update(pass.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(ctx.finish().as_ref());
    k
}

/// A failed attempt's key: name, password and the stored hash it failed against (so a
/// password change to exactly that value is checked afresh), hashed: no password is kept.
fn failure_key(name: &str, pass: &str, verifier: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"failed\0");
    ctx.update(&cache_key(name, pass));
    ctx.update(verifier.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(ctx.finish().as_ref());
    k
}

/// A hash of a random password with the current parameters, verified against when the user
/// does not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::password::hash(&crate::password::generate()).unwrap_or_default())
}

/// The unit limits apply to: the address for IPv4, the /64 for IPv6 (one host usually holds a
/// whole /64, so per-address limits would be trivial to dodge).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_spend_refill_and_say_how_long() {
        let b: Buckets<u8> = Buckets::new(3, 60.0);
        for _ in 0..3 {
            assert!(b.wait(&1).is_none());
            b.spend(&1);
        }
        let d = b.wait(&1).expect("empty");
        assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2));
        assert!(b.wait(&2).is_none(), "per key");
    }

    #[test]
    fn admit_and_failed_share_the_budget() {
        let l = Login::new(Policy {
            ip_burst: 2,
            account_burst: 3,
            ..Policy::default()
        });
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        l.failed(Some(a), Some("X@example.org"));
        assert!(l.admit(Some(a), None).is_ok());
        l.failed(Some(a), Some("x@example.org"));
        assert!(l.admit(Some(a), None).is_err(), "client budget spent");
        assert!(l.admit(Some(b), Some("x@example.org")).is_ok());
        l.failed(Some(b), Some("x@EXAMPLE.org"));
        assert!(
            l.admit(Some(b), Some("x@example.org")).is_err(),
            "account budget spent, names compared without case"
        );
        assert!(l.admit(Some(b), Some("y@example.org")).is_ok());
    }
}
