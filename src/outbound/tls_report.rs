//! SMTP TLS reports (RFC 8460): the aggregate report of one domain and period as JSON (§4.4)
//! and as the mail that carries it (§5.3). Pure functions; `tls_report_send.rs` decides when
//! and to whom.

use crate::mta_sts::Policy;
use crate::store::TlsDay;
use base64::Engine;
use serde_json::{Value, json};

/// What one report describes.
pub struct Report<'a> {
    /// Our name as the submitter (the hostname).
    pub submitter: &'a str,
    /// Where the receiver can write back (`postmaster@<from domain>`).
    pub contact: &'a str,
    /// The domain the sessions were for (the policy domain).
    pub domain: &'a str,
    pub start: i64,
    pub end: i64,
    pub results: &'a TlsDay,
    /// The policy that applied, when the results are of type "sts".
    pub policy: Option<&'a Policy>,
}

impl Report<'_> {
    /// §4.4 report-id: unique per report; ours names the period, domain and submitter.
    pub fn id(&self) -> String {
        format!("{}.{}@{}", self.start, self.domain, self.submitter)
    }

    /// The JSON report (RFC 8460 §4.4).
    pub fn json(&self) -> Value {
        let r = self.results;
        let mut policy = json!({
            "policy-type": if self.policy.is_some() { "sts" } else { "no-policy-found" },
            "policy-domain": self.domain,
        });
        if let Some(p) = self.policy {
            let text = p.render();
            policy["policy-string"] = json!(text.lines().collect::<Vec<_>>());
            policy["mx-host"] = json!(p.mx);
        }
        let failed: u64 = r.failures.values().sum();
        let details: Vec<Value> = r
            .failures
            .iter()
            .map(|(kind, n)| json!({"result-type": kind, "failed-session-count": n}))
            .collect();
        json!({
            "organization-name": self.submitter,
            "date-range": {
                "start-datetime": crate::date::rfc3339(self.start),
                "end-datetime": crate::date::rfc3339(self.end),
            },
            "contact-info": self.contact,
            "report-id": self.id(),
            "policies": [{
                "policy": policy,
                "summary": {
                    "total-successful-session-count": r.successes,
                    "total-failure-session-count": failed,
                },
                "failure-details": details,
            }],
        })
    }

    /// The report mail (§5.3): multipart/report with report-type "tlsrpt", the
    /// TLS-Report-Domain and TLS-Report-Submitter fields, the §5.3 subject, and the JSON as an
    /// `application/tlsrpt+json` attachment named `submitter!domain!start!end!id.json`
    /// (base64: the JSON is one long line).
    pub fn message(&self, from: &str, to: &[String], now: i64) -> Vec<u8> {
        let id = self.id();
        let boundary = format!("tlsrpt-{}", crate::store::hex_sha256(id.as_bytes()));
        let body = serde_json::to_vec(&self.json()).unwrap_or_default();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&body);
        let mut wrapped = String::new();
        for chunk in b64.as_bytes().chunks(76) {
            wrapped.push_str(&String::from_utf8_lossy(chunk));
            wrapped.push_str("\r\n");
        }
        let filename = format!(
            "{}!{}!{}!{}!{}.json",
            self.submitter,
            self.domain,
            self.start,
            self.end,
            &crate::store::hex_sha256(id.as_bytes())[..12]
        );
        format!(
            "From: TLS reports <{from}>\r\n\
             To: {to}\r\n\
             Date: {date}\r\n\
             Message-ID: <{id}>\r\n\
             Subject: Report Domain: {domain} Submitter: {submitter} Report-ID: <{id}>\r\n\
             TLS-Report-Domain: {domain}\r\n\
             TLS-Report-Submitter: {submitter}\r\n\
             Auto-Submitted: auto-generated\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"{boundary}\"\r\n\
             \r\n\
             --{boundary}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             This is an aggregate TLS report (RFC 8460) from {submitter} about mail to {domain}\r\n\
             from {start} to {end}.\r\n\
             \r\n\
             --{boundary}\r\n\
             Content-Type: application/tlsrpt+json\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"{filename}\"\r\n\
             \r\n\
             {wrapped}\
             --{boundary}--\r\n",
            to = to.join(", "),
            date = crate::date::rfc5322(now),
            domain = self.domain,
            submitter = self.submitter,
            start = crate::date::rfc3339(self.start),
            end = crate::date::rfc3339(self.end),
        )
        .into_bytes()
    }
}

/// The `mailto:` addresses of a `_smtp._tls` TXT record (RFC 8460 §3: `v=TLSRPTv1;
/// rua=URI[,URI]`), at most `max`; `https:` URIs are not supported and left out. None when the
/// record is not a TLSRPTv1 record.
pub fn rua_mailto(txt: &str, max: usize) -> Option<Vec<String>> {
    let mut fields = txt.split(';').map(str::trim);
    if fields.next()?.replace(' ', "") != "v=TLSRPTv1" {
        return None;
    }
    let rua = fields.find_map(|f| {
        let (k, v) = f.split_once('=')?;
        (k.trim() == "rua").then(|| v.trim().to_string())
    })?;
    Some(
        rua.split(',')
            .filter_map(|u| u.trim().strip_prefix("mailto:"))
            // RFC 7489-style size suffix ("!10m") and %-escapes are not part of the address.
            .map(|a| a.split('!').next().unwrap_or(a).to_string())
            .filter(|a| {
                a.len() <= 254
                    && a.split_once('@')
                        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
                    && a.bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
            })
            .take(max)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rua_addresses() {
        assert_eq!(
            rua_mailto("v=TLSRPTv1; rua=mailto:a@x.example,https://r.example/x", 5),
            Some(vec!["a@x.example".to_string()])
        );
        assert_eq!(
            rua_mailto("v=TLSRPTv1;rua=mailto:b@y.example!10m", 5).unwrap(),
            ["b@y.example"]
        );
        assert_eq!(rua_mailto("v=spf1 -all", 5), None);
        assert_eq!(
            rua_mailto("v=TLSRPTv1; rua=mailto:<x>@y", 5).unwrap().len(),
            0
        );
    }

    #[test]
    fn report_follows_rfc_8460_section_4_4() {
        let mut results = TlsDay {
            policy: "sts".into(),
            mode: "testing".into(),
            successes: 3,
            ..Default::default()
        };
        results.failures.insert("certificate-expired".into(), 2);
        let policy =
            Policy::parse("version: STSv1\nmode: testing\nmx: mx.r.example\nmax_age: 86400\n")
                .unwrap();
        let r = Report {
            submitter: "mail.example.org",
            contact: "postmaster@example.org",
            domain: "r.example",
            start: 1_795_000_000 - 1_795_000_000 % 86_400,
            end: 1_795_000_000 - 1_795_000_000 % 86_400 + 86_400,
            results: &results,
            policy: Some(&policy),
        };
        let j = r.json();
        assert_eq!(j["policies"][0]["policy"]["policy-type"], "sts");
        assert_eq!(j["policies"][0]["policy"]["mx-host"][0], "mx.r.example");
        assert_eq!(
            j["policies"][0]["summary"]["total-failure-session-count"],
            2
        );
        assert_eq!(
            j["policies"][0]["failure-details"][0]["result-type"],
            "certificate-expired"
        );
        assert!(
            j["date-range"]["start-datetime"]
                .as_str()
                .unwrap()
                .ends_with("T00:00:00Z")
        );
        let m = String::from_utf8(r.message("postmaster@example.org", &["t@r.example".into()], 0))
            .unwrap();
        assert!(m.contains("TLS-Report-Domain: r.example\r\n"), "{m}");
        assert!(m.contains("report-type=\"tlsrpt\""), "{m}");
        assert!(m.lines().all(|l| l.len() <= 998));
    }
}
