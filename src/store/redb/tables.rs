//! Every redb table and its key encoding, in one place.
//!
//! Layout in plain words: accounts are numbered; everything an account owns is keyed by
//! `(account, ...)` so one range scan finds it. Email state (mutable: mailboxes, keywords) and
//! email meta (immutable parsed headers) live in separate tables so a flag change rewrites a
//! few dozen bytes, not the whole header summary. Raw messages live in `BLOBS` keyed by the hex
//! SHA-256 of their bytes, with per-account reference counts in `BLOB_REFS` (which is also the
//! access check for downloads). `MAILBOX_EMAILS` and `RECEIVED` are sorted indexes that answer
//! the common Email/query (one mailbox, newest first) without reading any email record.
//! Every change appends to `CHANGES` at a fresh per-account modseq (RFC 8620 §5.2 state).

use redb::TableDefinition;

/// Schema version and other singletons.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// account id -> Account (JSON).
pub const ACCOUNTS: TableDefinition<u32, &[u8]> = TableDefinition::new("accounts");
/// lower-cased address -> account id.
pub const ADDRESSES: TableDefinition<&str, u32> = TableDefinition::new("addresses");
/// (account, slot) -> counter value; see the `slot` module.
pub const COUNTERS: TableDefinition<(u32, u8), u64> = TableDefinition::new("counters");
/// (account, mailbox) -> Mailbox (JSON).
pub const MAILBOXES: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("mailboxes");
/// (account, email) -> EmailState (JSON).
pub const EMAILS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("emails");
/// (account, email) -> EmailMeta (JSON).
pub const EMAIL_META: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("email_meta");
/// (account, mailbox, receivedAt, email) -> (): emails of a mailbox in date order.
pub const MAILBOX_EMAILS: TableDefinition<(u32, u32, i64, u32), ()> =
    TableDefinition::new("mailbox_emails");
/// (account, receivedAt, email) -> (): all emails of an account in date order.
pub const RECEIVED: TableDefinition<(u32, i64, u32), ()> = TableDefinition::new("received");
/// (account, mailbox, thread) -> (emails of the thread in the mailbox, of which unread).
pub const MAILBOX_THREADS: TableDefinition<(u32, u32, u32), (u32, u32)> =
    TableDefinition::new("mailbox_threads");
/// (account, thread) -> email ids in thread order (4 bytes each after a marker byte, schema 2;
/// `mail::thread::encode_members`).
pub const THREADS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("threads");
/// (account, thread) -> (members, drafts among them, receivedAt of the last member, last
/// member): lets a new message join a long thread without reading every member (issue #20: the
/// cost of a delivery grew with the thread). Written by every full rebuild of the order; a
/// thread without a row, or whose row disagrees with `THREADS` (count or last id, e.g. after an
/// older binary changed it), is rebuilt in full once. No row is a valid state: older databases
/// start that way.
pub const THREAD_TAILS: TableDefinition<(u32, u32), (u32, u32, i64, u32)> =
    TableDefinition::new("thread_tails");
/// (account, hash of message-id and base subject) -> thread id.
pub const THREAD_REFS: TableDefinition<(u32, u128), u32> = TableDefinition::new("thread_refs");
/// hex SHA-256 -> raw bytes.
pub const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs");
/// (hex SHA-256, account) -> number of references from that account.
pub const BLOB_REFS: TableDefinition<(&str, u32), u32> = TableDefinition::new("blob_refs");
/// (account, data type, modseq) -> (object id, ChangeKind).
pub const CHANGES: TableDefinition<(u32, u8, u64), (u32, u8)> = TableDefinition::new("changes");
/// (account, push subscription id) -> PushSubscription (JSON).
pub const PUSH_SUBSCRIPTIONS: TableDefinition<(u32, &str), &[u8]> =
    TableDefinition::new("push_subscriptions");
/// (account, hex SHA-256) -> (uploaded at, size): blobs uploaded (or Blob/copied) and not yet
/// expired. Each row holds one reference in `BLOB_REFS`, dropped when the row expires, so an
/// upload lives until an object references it or its time runs out (RFC 8620 §6).
pub const UPLOADS: TableDefinition<(u32, &str), (i64, u64)> = TableDefinition::new("uploads");

/// lower-cased domain -> unix time it was added: the domains this server receives mail for.
/// Mail to any other domain is refused as relaying (RFC 5321 §3.6.1).
pub const DOMAINS: TableDefinition<&str, i64> = TableDefinition::new("domains");
/// lower-cased alias -> JSON array of account ids. `@domain` is that domain's catch-all.
/// Single-account names stay in `ADDRESSES`; an alias may fan out to several accounts.
pub const ALIASES: TableDefinition<&str, &[u8]> = TableDefinition::new("aliases");
/// queue id -> QueuedMessage (JSON): the durable outbound queue (`src/outbound/`). The message
/// bytes live in `BLOBS`, referenced by the pseudo-account [`QUEUE_OWNER`] so they outlive the
/// draft they came from (onSuccessDestroyEmail, RFC 8621 §7.5).
pub const OUTBOUND: TableDefinition<u64, &[u8]> = TableDefinition::new("outbound");
/// (domain, algorithm) -> DkimKey (JSON): the signing keys, made on first use.
pub const DKIM_KEYS: TableDefinition<(&str, u8), &[u8]> = TableDefinition::new("dkim_keys");
/// (account, submission id) -> EmailSubmission (JSON), RFC 8621 §7.
pub const SUBMISSIONS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("submissions");
/// (account, lower-cased sender) -> unix time of the last vacation reply to it (RFC 3834 §2).
pub const VACATION_REPLIES: TableDefinition<(u32, &str), i64> =
    TableDefinition::new("vacation_replies");

/// The owner of blob references held by the outbound queue (no account has id 0).
pub const QUEUE_OWNER: u32 = 0;

/// (account, identity) -> Identity (JSON) (RFC 8621 §6).
pub const IDENTITIES: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("identities");
/// account -> VacationResponse (JSON) (RFC 8621 §8).
pub const VACATION: TableDefinition<u32, &[u8]> = TableDefinition::new("vacation");
/// account -> modseq: every Email change of the account up to this modseq is in the search
/// index (the indexer's watermark; `META["index_generation"]` names the index it refers to).
pub const INDEX_MARKS: TableDefinition<u32, u64> = TableDefinition::new("index_marks");
/// (account, selector) -> AppPassword (JSON): the account's app passwords
/// (`store/redb/app_passwords.rs`); the selector is the first group of the password itself.
pub const APP_PASSWORDS: TableDefinition<(u32, &str), &[u8]> =
    TableDefinition::new("app_passwords");
/// hex SHA-256 of a token -> Token (JSON): Bearer access tokens and OAuth refresh tokens
/// (`store/redb/tokens.rs`); the token itself is never stored.
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");
/// client id -> OAuthClient (JSON): OAuth 2.0 clients the admin registered
/// (`store/redb/oauth_clients.rs`, `src/oauth/clients.rs`).
pub const OAUTH_CLIENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("oauth_clients");
/// name -> bytes: server secrets made on first use (`store/redb/secrets.rs`; the SRS key).
pub const SECRETS: TableDefinition<&str, &[u8]> = TableDefinition::new("secrets");

/// Counter slots in `COUNTERS`.
/// (account, script id) -> SieveScript (JSON, with its compiled form): RFC 9661 / RFC 5804
/// scripts. At most one per account has `is_active`; its text is a blob in `BLOBS`.
pub const SIEVE_SCRIPTS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("sieve_scripts");
/// account -> what the last Sieve failure reported to the owner was about (script blob and
/// error), so one broken script is reported once, not at every delivery.
pub const SIEVE_REPORTED: TableDefinition<u32, &str> = TableDefinition::new("sieve_reported");

// ---- sharing (issue #16; store operations in store/redb/shares.rs) -------------------------

/// (owner, mailbox or [`WHOLE_ACCOUNT`], grantee) -> (rights bitmask, owner modseq when it was
/// last changed). Rights 0 is a revoked grant kept for its modseq (the grantee's older states
/// then get cannotCalculateChanges); at most one row per pair that was ever shared.
pub const SHARES: TableDefinition<(u32, u32, u32), (u16, u64)> = TableDefinition::new("shares");
/// (grantee, owner, mailbox or [`WHOLE_ACCOUNT`]) -> the same value: `SHARES` by grantee.
pub const SHARED_WITH: TableDefinition<(u32, u32, u32), (u16, u64)> =
    TableDefinition::new("shared_with");
/// (account, notification id) -> ShareNotification (JSON, RFC 9670 §5): what was shared with
/// the account or taken away; the account destroys them when read.
pub const SHARE_NOTES: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("share_notes");
/// The mailbox number of a grant of a whole account (a shared account such as family@).
pub const WHOLE_ACCOUNT: u32 = u32::MAX;

pub mod slot {
    /// ShareNotification ids (store/redb/shares.rs).
    pub const NEXT_SHARE_NOTE: u8 = 10;
    /// The account's modseq: bumped by every change of any type.
    pub const MODSEQ: u8 = 0;
    pub const NEXT_MAILBOX: u8 = 1;
    pub const NEXT_EMAIL: u8 = 2;
    pub const NEXT_THREAD: u8 = 3;
    pub const NEXT_IDENTITY: u8 = 4;
    pub const NEXT_SUBMISSION: u8 = 5;
    /// Sieve script ids (a distinct number so other new slots do not collide).
    pub const NEXT_SIEVE: u8 = 12;
    /// `TYPE_HIGH + type`: highest modseq of a change of that type (its state).
    pub const TYPE_HIGH: u8 = 16;
    /// `TYPE_LOW + type`: changes at or below this modseq have been trimmed from the log.
    pub const TYPE_LOW: u8 = 48;
}

/// 2: `THREADS` values hold 4-byte member ids after a marker byte instead of a JSON array
/// (`store/mail/thread.rs`, migration in `redb/schema.rs`).
pub const SCHEMA_VERSION: u64 = 2;

// ---- the junk filter (src/junk/, store operations in store/redb/junk.rs) ------------------

/// (account, token hash) -> (spam messages, ham messages, day last trained): the account's
/// statistical model. Bounded per account by pruning (`Writer::junk_prune`).
pub const JUNK_TOKENS: TableDefinition<(u32, u64), (u32, u32, u32)> =
    TableDefinition::new("junk_tokens");
/// account -> JunkAccount (JSON): message totals, token count and the per-account mode.
pub const JUNK_ACCOUNTS: TableDefinition<u32, &[u8]> = TableDefinition::new("junk_accounts");
/// (account, email) -> label trained (1 spam, 2 ham): makes training idempotent per message
/// and lets a retraining subtract the old label first.
pub const JUNK_TRAINED: TableDefinition<(u32, u32), u8> = TableDefinition::new("junk_trained");
/// (account, email) -> label wanted: written in the JMAP write transaction (cheap), trained
/// afterwards by the trainer task (reading and tokenizing the message is not).
pub const JUNK_PENDING: TableDefinition<(u32, u32), u8> = TableDefinition::new("junk_pending");
/// (account, lower-cased address) -> unix time last written to: the account's correspondents
/// (from EmailSubmission), whose mail is never filed as junk.
pub const SENT_TO: TableDefinition<(u32, &str), i64> = TableDefinition::new("sent_to");

// ---- MTA-STS and TLS reporting (RFC 8461, RFC 8460; store operations in store/redb/mta_sts.rs)

/// remote domain (lower-case) -> CachedPolicy (JSON): the last MTA-STS policy fetched for a
/// domain we deliver to, its TXT id and expiry (fetch time + max_age). Bounded by
/// `[mta_sts] cache_max`: the entry expiring first goes when the cache is full.
pub const MTA_STS_POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("mta_sts_policies");
/// (start of the reporting period in unix seconds, remote domain) -> TlsDay (JSON): TLS
/// successes and failures of our deliveries to that domain in that period (a UTC day by
/// default), by failure type, whether its RFC 8460 report went out. Periods older than
/// `TLS_RESULTS_KEEP_SECS` are dropped as new ones come.
pub const TLS_RESULTS: TableDefinition<(i64, &str), &[u8]> = TableDefinition::new("tls_results");
// ---- quotas (RFC 9425; store operations in store/redb/quota.rs) ---------------------------

/// account -> (octets, messages, warning state): the account's usage, moved by every email
/// insert and destroy in the same transaction, so it is exact after every write. Derived
/// from `EMAILS` on open when `META["quota_usage"]` is missing (a database from before it).
pub const QUOTA_USAGE: TableDefinition<u32, (u64, u64, u8)> = TableDefinition::new("quota_usage");
/// account -> QuotaLimits (JSON): limits set for the account; account 0 holds the server
/// default from the config (`[quota]`), rewritten at each start.
pub const QUOTA_LIMITS: TableDefinition<u32, &[u8]> = TableDefinition::new("quota_limits");
/// account -> (hour, messages, recipients, day, messages, recipients): what the account sent
/// in the current clock hour and UTC day (`store/redb/send_counts.rs`, `quota/send.rs`).
pub const SEND_COUNTS: TableDefinition<u32, (i64, u32, u32, i64, u32, u32)> =
    TableDefinition::new("send_counts");
