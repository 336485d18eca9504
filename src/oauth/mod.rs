//! A small OAuth 2.0 authorization server (issue #15), sized for one household.
//!
//! - **Clients** are registered by the admin (`mailnook oauth client add NAME --redirect URI`,
//!   `clients.rs`); all are public clients (RFC 6749 §2.1: native and browser apps keep no
//!   secret), so PKCE is what binds a code to the app that asked for it. No dynamic
//!   registration (RFC 7591): an open registration endpoint would let anyone put an app name of
//!   their choosing on our consent page.
//! - **Authorization-code grant with PKCE** (RFC 7636, `S256` only; `plain` is refused):
//!   `/oauth/authorize` shows a sign-in + consent page (`http/oauth.rs`), the code is
//!   single-use, lives [`CODE_TTL`] and is bound to client, redirect URI, challenge and the
//!   password it was granted under (`grants.rs`, in memory: a restart only voids codes in
//!   flight).
//! - **Tokens** are the opaque Bearer tokens of `src/tokens.rs`: access tokens expire after
//!   `oauth_access_ttl_secs` (default an hour), refresh tokens after [`REFRESH_TTL_SECS`];
//!   each refresh rotates the refresh token, and presenting a used one revokes the whole
//!   grant (its token family; OAuth 2.0 Security BCP, RFC 9700 §4.14.2). Presenting a used code
//!   again revokes what it was exchanged for (RFC 6749 §4.1.2). All die with the account or a
//!   change of its password, and with the client.
//! - **Revocation** (RFC 7009) and **metadata** (RFC 8414) complete it (`http/oauth.rs`).

pub mod clients;
pub mod exchange;
pub mod grants;
pub mod pkce;

use std::time::Duration;

/// How long an authorization code may wait to be exchanged (RFC 6749 §4.1.2 recommends at
/// most 10 minutes; an app exchanges it at once).
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// How long the sign-in + consent page stays usable.
pub const REQUEST_TTL: Duration = Duration::from_secs(15 * 60);
/// Lifetime of a refresh token (each use rotates it, so an app in use never reaches it).
pub const REFRESH_TTL_SECS: i64 = 60 * 24 * 3600;
/// What the consent page says the app gets: everything the account's JMAP API offers.
pub const SCOPE: &str = "mail";
