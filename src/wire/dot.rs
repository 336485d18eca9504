//! Dot-stuffed data (RFC 5321 §4.1.1.4, §4.5.2), both ways. [`stuff`] encodes a message for
//! sending. [`DataReader`] finds the end-of-data marker, removes
//! dot-stuffing, normalises line ends to CRLF and enforces the size limit while streaming, so a
//! client that sends far more than the limit never makes us buffer more than the limit.
//!
//! Only `<CRLF>.<CRLF>` ends the data. A `.` line that follows or ends with a bare LF does not,
//! which closes the "SMTP smuggling" hole where two servers disagree on where a message ends.

/// A line longer than this (RFC 5321 allows 1000) is passed through in pieces.
const MAX_PIECE: usize = 64 * 1024;

pub struct DataReader {
    limit: usize,
    out: Vec<u8>,
    line: Vec<u8>,
    /// Bytes of message content seen, including what was dropped past the limit.
    pub seen: u64,
    /// The previous line ended in CRLF (so a "." line now may be the terminator).
    prev_crlf: bool,
    /// We are at the start of a line (dot-unstuffing applies).
    at_bol: bool,
    /// Lines that ended in a bare LF or had a bare CR were seen.
    pub bare_lf: bool,
}

pub enum Feed {
    /// Need more bytes.
    More,
    /// The terminator was found after `consumed` bytes of the input.
    Done { consumed: usize },
}

impl DataReader {
    pub fn new(limit: usize) -> DataReader {
        DataReader {
            limit,
            out: Vec::new(),
            line: Vec::new(),
            seen: 0,
            prev_crlf: true,
            at_bol: true,
            bare_lf: false,
        }
    }

    /// The most room made in advance for an announced size: a SIZE= is the client's word, and
    /// untouched reservations still take address space (a 32-bit Pi has 3 GB of it).
    pub const MAX_RESERVE: u64 = 4 * 1024 * 1024;

    /// Makes room for `announced` octets (bounded by the limit and [`Self::MAX_RESERVE`]), so a
    /// large message is not copied again each time the buffer doubles.
    pub fn expect(&mut self, announced: u64) {
        let n = announced.min(self.limit as u64).min(Self::MAX_RESERVE);
        self.out.reserve(usize::try_from(n).unwrap_or(0));
    }

    pub fn too_big(&self) -> bool {
        self.seen > self.limit as u64
    }

    pub fn into_message(self) -> Vec<u8> {
        self.out
    }

    pub fn feed(&mut self, input: &[u8]) -> Feed {
        let mut pos = 0;
        while pos < input.len() {
            match memchr::memchr(b'\n', &input[pos..]) {
                Some(i) => {
                    let end = pos + i + 1;
                    let done = if self.line.is_empty() {
                        // The usual case: the whole line is in the input; no copy of it.
                        self.finish_line(&input[pos..end])
                    } else {
                        // The line began in an earlier read: complete it, then hand it over
                        // (the buffer is put back to keep its capacity).
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(&input[pos..end]);
                        let done = self.finish_line(&line);
                        line.clear();
                        self.line = line;
                        done
                    };
                    pos = end;
                    if done {
                        return Feed::Done { consumed: pos };
                    }
                }
                None => {
                    self.line.extend_from_slice(&input[pos..]);
                    pos = input.len();
                    if self.line.len() > MAX_PIECE {
                        let piece = std::mem::take(&mut self.line);
                        self.emit_content(&piece);
                        self.at_bol = false;
                        self.prev_crlf = false;
                    }
                }
            }
        }
        Feed::More
    }

    /// Handles one complete line (ending in LF). Returns true at the end-of-data marker.
    fn finish_line(&mut self, line: &[u8]) -> bool {
        let crlf = line.ends_with(b"\r\n");
        if crlf && self.prev_crlf && self.at_bol && line == b".\r\n" {
            return true;
        }
        if !crlf {
            self.bare_lf = true;
        }
        let content = if crlf {
            &line[..line.len() - 2]
        } else {
            &line[..line.len() - 1]
        };
        if content == b"." {
            // A lone dot that is not the terminator (bare LF around it) is kept as data.
            self.emit(content);
        } else {
            self.emit_content(content);
        }
        self.emit(b"\r\n");
        self.prev_crlf = crlf;
        self.at_bol = true;
        false
    }

    fn emit_content(&mut self, content: &[u8]) {
        let content = if self.at_bol && content.first() == Some(&b'.') {
            &content[1..]
        } else {
            content
        };
        self.emit(content);
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.seen += bytes.len() as u64;
        if self.seen <= self.limit as u64 {
            self.out.extend_from_slice(bytes);
        }
    }
}

/// RFC 5321 §4.5.2: a line starting with "." gets another; the data ends with CRLF.CRLF.
/// Bare LFs become CRLF on the way (§2.3.8).
pub fn stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut at_bol = true;
    let mut prev = 0u8;
    for &b in message {
        if at_bol && b == b'.' {
            out.push(b'.');
        }
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        at_bol = b == b'\n';
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn stuffing() {
        assert_eq!(stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(stuff(b".x\nno end"), b"..x\r\nno end\r\n.\r\n");
    }
    use super::*;

    fn run(input: &[u8], limit: usize) -> (Vec<u8>, Option<usize>, bool) {
        let mut r = DataReader::new(limit);
        let mut done = None;
        // Feed one byte at a time: the state machine must not depend on chunk boundaries.
        for (i, b) in input.iter().enumerate() {
            if let Feed::Done { .. } = r.feed(std::slice::from_ref(b)) {
                done = Some(i + 1);
                break;
            }
        }
        let big = r.too_big();
        (r.into_message(), done, big)
    }

    #[test]
    fn unstuffs_and_ends() {
        let (m, done, _) = run(b"a\r\n..b\r\n.\r\nQUIT\r\n", 1000);
        assert_eq!(m, b"a\r\n.b\r\n");
        assert_eq!(done, Some(11));
    }

    #[test]
    fn bare_lf_dot_does_not_end() {
        let (m, done, _) = run(b"a\n.\nb\r\n.\r\n", 1000);
        assert_eq!(done, Some(10));
        assert_eq!(m, b"a\r\n.\r\nb\r\n");
    }

    #[test]
    fn limit_stops_buffering() {
        let mut input = vec![b'x'; 5000];
        input.extend_from_slice(b"\r\n.\r\n");
        let (m, done, big) = run(&input, 100);
        assert!(big);
        assert!(done.is_some());
        assert!(m.len() <= 100);
    }

    #[test]
    fn whole_chunk() {
        let mut r = DataReader::new(1000);
        match r.feed(b"Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n") {
            Feed::Done { consumed } => assert_eq!(consumed, 21),
            Feed::More => panic!("not done"),
        }
    }

    /// A small deterministic generator (xorshift64*), so failures reproduce from the seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Feeds `input` in random chunks; returns (message, consumed, too_big).
    fn run_chunked(input: &[u8], limit: usize, rng: &mut Rng) -> (Vec<u8>, Option<usize>, bool) {
        let mut r = DataReader::new(limit);
        let mut pos = 0;
        let mut done = None;
        while pos < input.len() {
            let n = 1 + rng.below(64.min(input.len() - pos));
            match r.feed(&input[pos..pos + n]) {
                Feed::Done { consumed } => {
                    done = Some(pos + consumed);
                    break;
                }
                Feed::More => pos += n,
            }
        }
        let big = r.too_big();
        (r.into_message(), done, big)
    }

    /// Property: for any message made of CRLF lines, what a client sends (dot-stuffed, then
    /// CRLF.CRLF, then a pipelined command) comes back byte for byte, whatever the chunking,
    /// and the reader stops exactly at the terminator.
    #[test]
    fn property_round_trip_any_chunking() {
        let alphabet = b".\r\na. \x00\xff";
        for seed in 1..400u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let lines = rng.below(12);
            let mut message = Vec::new();
            for _ in 0..lines {
                let len = rng.below(20);
                for _ in 0..len {
                    // No CR or LF inside a line: line ends are CRLF here.
                    let b = alphabet[rng.below(alphabet.len())];
                    message.push(if b == b'\r' || b == b'\n' { b'.' } else { b });
                }
                message.extend_from_slice(b"\r\n");
            }
            let mut wire = Vec::new();
            for line in message.split_inclusive(|b| *b == b'\n') {
                if line.first() == Some(&b'.') {
                    wire.push(b'.');
                }
                wire.extend_from_slice(line);
            }
            wire.extend_from_slice(b".\r\n");
            let end = wire.len();
            wire.extend_from_slice(b"QUIT\r\n");
            let (out, done, big) = run_chunked(&wire, 1 << 20, &mut rng);
            assert_eq!(done, Some(end), "seed {seed}: stops at the terminator");
            assert!(!big);
            assert_eq!(out, message, "seed {seed}: round trip");
        }
    }

    /// Fuzz: arbitrary bytes never panic, never buffer past the limit, and give the same result
    /// however they are chunked.
    #[test]
    fn fuzz_arbitrary_bytes_chunking_invariant() {
        let alphabet = b".\r\nab\x00\xff";
        for seed in 1..400u64 {
            let mut rng = Rng(seed.wrapping_mul(0xd134_2543_de82_ef95) | 1);
            let len = rng.below(600);
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let limit = 1 + rng.below(300);
            let (a, da, ba) = run(&input, limit);
            let (b, db, bb) = run_chunked(&input, limit, &mut rng);
            assert_eq!((&a, da, ba), (&b, db, bb), "seed {seed}");
            assert!(a.len() <= limit, "seed {seed}: buffered past the limit");
            if let Some(d) = da {
                assert!(input[..d].ends_with(b"\r\n.\r\n") || input[..d] == *b".\r\n");
            }
        }
    }
}
