//! A realistic corpus generated on the fly, deterministic for a seed: threads with
//! In-Reply-To/References, text and HTML, attachments, non-ASCII headers; sizes from about 2 KB
//! to 2 MB with a median near 10 KB.

/// xorshift64*: small, fast, deterministic; statistical quality is plenty for a corpus.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: [&str; 48] = [
    "garden",
    "invoice",
    "meeting",
    "holiday",
    "report",
    "kitchen",
    "school",
    "football",
    "budget",
    "recipe",
    "weekend",
    "doctor",
    "birthday",
    "project",
    "photos",
    "train",
    "ticket",
    "concert",
    "insurance",
    "window",
    "bicycle",
    "letter",
    "market",
    "coffee",
    "river",
    "mountain",
    "schedule",
    "question",
    "answer",
    "delivery",
    "package",
    "family",
    "dinner",
    "teacher",
    "homework",
    "library",
    "museum",
    "airport",
    "hotel",
    "summer",
    "winter",
    "friday",
    "monday",
    "update",
    "draft",
    "review",
    "contract",
    "agenda",
];
const NAMES: [&str; 10] = [
    "Anna Müller",
    "Bob Smith",
    "Chloé Dubois",
    "Dmitri Ivanov",
    "Eva Nováková",
    "Frank O'Brien",
    "Grete Sørensen",
    "Hiro Tanaka",
    "Inés García",
    "José Álvarez",
];

pub struct Corpus {
    rng: Rng,
    recipient: String,
    /// Message-IDs of earlier messages with their subjects, for replies.
    earlier: Vec<(String, String)>,
    n: u64,
}

pub struct Message {
    pub bytes: Vec<u8>,
}

fn encode_word(s: &str) -> String {
    use base64::Engine;
    if s.is_ascii() {
        s.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }
}

impl Corpus {
    pub fn new(seed: u64, recipient: &str) -> Corpus {
        Corpus {
            rng: Rng::new(seed),
            recipient: recipient.to_string(),
            earlier: Vec::new(),
            n: 0,
        }
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.rng.pick(&WORDS));
        }
        s
    }

    /// Body text size: log-normal-ish around 8 KB, from ~1.5 KB up to ~60 KB.
    fn text_len(&mut self) -> usize {
        let octave = self.rng.below(6) + self.rng.below(4); // 0..=8, peaked in the middle
        (1500usize << (octave / 2)) + self.rng.below(4000) as usize
    }

    pub fn next(&mut self, unique_word: Option<&str>) -> Message {
        self.n += 1;
        let id = format!("bench-{}-{}@bench.example", self.n, self.rng.below(1 << 30));
        let from_name = self.rng.pick(&NAMES);
        let from_addr = format!(
            "{}@example.net",
            from_name
                .split(' ')
                .next()
                .unwrap_or("x")
                .to_lowercase()
                .replace(['ü', 'é', 'á', 'ø', 'é'], "e")
        );
        let reply_to = if !self.earlier.is_empty() && self.rng.chance(35) {
            let i = self.earlier.len()
                - 1
                - (self.rng.below(self.earlier.len().min(200) as u64) as usize);
            Some(self.earlier[i].clone())
        } else {
            None
        };
        let subject = match &reply_to {
            Some((_, s)) => format!("Re: {s}"),
            None if self.rng.chance(20) => {
                format!("Über {} – {}", self.sentence(2), self.sentence(2))
            }
            None => self.sentence(4),
        };
        let mut h = String::new();
        h.push_str(&format!(
            "From: {} <{from_addr}>\r\n",
            encode_word(from_name)
        ));
        h.push_str(&format!("To: {}\r\n", self.recipient));
        h.push_str(&format!("Subject: {}\r\n", encode_word(&subject)));
        h.push_str(&format!("Message-ID: <{id}>\r\n"));
        h.push_str("Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n");
        if let Some((parent, _)) = &reply_to {
            h.push_str(&format!(
                "In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
            ));
        }
        let base_subject = subject.trim_start_matches("Re: ").to_string();
        self.earlier.push((id, base_subject));
        if self.earlier.len() > 1000 {
            self.earlier.drain(..500);
        }
        let len = self.text_len();
        let mut text = String::with_capacity(len + 100);
        if let Some(w) = unique_word {
            text.push_str(w);
            text.push_str("\r\n");
        }
        while text.len() < len {
            text.push_str(&self.sentence(12));
            text.push_str(".\r\n");
        }
        let attachment = if self.rng.chance(2) {
            // 2 % carry an attachment of 20 KB .. 2 MB.
            Some(20_000usize << self.rng.below(7))
        } else {
            None
        };
        let html = self.rng.chance(40);
        let boundary = format!("b{}", self.rng.next());
        let mut body = String::new();
        match (html, attachment) {
            (false, None) => {
                h.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n");
                body.push_str(&text);
            }
            _ => {
                h.push_str(&format!(
                    "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n"
                ));
                body.push_str(&format!(
                    "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
                ));
                if html {
                    let mut p = String::from("<html><body>");
                    for line in text.lines().take(60) {
                        p.push_str("<p>");
                        p.push_str(line);
                        p.push_str("</p>\r\n");
                    }
                    p.push_str("</body></html>");
                    body.push_str(&format!(
                        "--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{p}\r\n"
                    ));
                }
                if let Some(size) = attachment {
                    body.push_str(&format!(
                        "--{boundary}\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    ));
                    let line: String = (0..76)
                        .map(|i| (b'A' + ((i + self.n as usize) % 26) as u8) as char)
                        .collect();
                    let mut written = 0;
                    while written < size {
                        body.push_str(&line);
                        body.push_str("\r\n");
                        written += 78;
                    }
                }
                body.push_str(&format!("--{boundary}--\r\n"));
            }
        }
        let mut bytes = h.into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(body.as_bytes());
        Message { bytes }
    }
}
