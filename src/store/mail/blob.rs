//! Blob naming: a blob is named by the hex SHA-256 of its bytes (DESIGN.md "Ids"), so the same
//! message delivered to two accounts is stored once, whatever the backend.

pub fn hex_sha256(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut s = String::with_capacity(64);
    for b in d.as_ref() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
