//! A minimal blocking SMTP client for load: one session, many transactions, timing each
//! end-of-DATA -> 250.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

pub struct Smtp {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Smtp {
    pub fn connect(addr: SocketAddr) -> Result<Smtp, String> {
        let w = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        w.set_nodelay(true).map_err(|e| e.to_string())?;
        w.set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(|e| e.to_string())?;
        let r = BufReader::new(w.try_clone().map_err(|e| e.to_string())?);
        let mut s = Smtp { w, r };
        s.expect(220)?;
        s.cmd("EHLO bench.example", 250)?;
        Ok(s)
    }

    fn reply(&mut self) -> Result<u16, String> {
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("connection closed".into());
            }
            if line.len() >= 4 && line.as_bytes()[3] == b'-' {
                continue;
            }
            return line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| format!("bad reply {line:?}"));
        }
    }

    fn expect(&mut self, code: u16) -> Result<(), String> {
        let got = self.reply()?;
        if got == code {
            Ok(())
        } else {
            Err(format!("expected {code}, got {got}"))
        }
    }

    fn cmd(&mut self, line: &str, code: u16) -> Result<(), String> {
        self.w
            .write_all(format!("{line}\r\n").as_bytes())
            .map_err(|e| e.to_string())?;
        self.expect(code)
    }

    /// Sends one message (pipelining MAIL/RCPT/DATA, RFC 2920) and returns the time from the
    /// end-of-data marker to the 250.
    pub fn send(&mut self, from: &str, to: &str, msg: &[u8]) -> Result<Duration, String> {
        self.w
            .write_all(format!("MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes())
            .map_err(|e| e.to_string())?;
        self.expect(250)?;
        self.expect(250)?;
        self.expect(354)?;
        let mut data = Vec::with_capacity(msg.len() + 64);
        for line in msg.split_inclusive(|b| *b == b'\n') {
            if line.first() == Some(&b'.') {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&data).map_err(|e| e.to_string())?;
        self.w.write_all(b".\r\n").map_err(|e| e.to_string())?;
        let t = Instant::now();
        self.expect(250)?;
        Ok(t.elapsed())
    }

    pub fn quit(mut self) {
        let _ = self.cmd("QUIT", 221);
    }
}
