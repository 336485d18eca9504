//! PushSubscription (RFC 8620 §7.2): `get.rs` PushSubscription/get, `set.rs` /set.
//!
//! Subscriptions belong to the user who created them (no accountId, no state). The `url` must
//! be `https://` (the server refuses anything else with invalidProperties, and delivers with a
//! real HTTPS POST, see `http/pusher.rs`). On create the server makes a verification code and
//! pushes a PushVerification to the URL; nothing else is pushed until the client has set
//! `verificationCode` to that code (a wrong code is invalidProperties). Expiry is at most
//! [`set::MAX_LIFETIME_SECS`] ahead (the spec asks for at least 48 hours, recommends 7 days); a
//! later `expires` is clamped and the clamped value returned. Expired subscriptions are
//! removed by the periodic sweep and are never pushed to.
//!
//! With `keys`, pushes are encrypted per RFC 8291 (aes128gcm), see `http/webpush.rs`.
//!
//! The URL is the user's choice of where the server connects, so before the write
//! transaction every create's URL host is resolved and checked by `net_guard` (the server's
//! one SSRF gate, §7.2 security considerations): a host that is, or resolves to, anything but
//! a public internet address (loopback, private, link-local, unique-local, reserved, …, in any
//! notation the URL parser accepts) is refused with invalidProperties naming the URL, and no
//! connection is ever made to it. The pusher checks again before each POST (a name's answer
//! may change) and connects only to the address it checked. Admins list exceptions in
//! `[fetch] allow_private`. At most [`set::MAX_PER_USER`] subscriptions per user; pushes per
//! account per minute are capped by the pusher.

pub mod get;
pub mod set;
