//! The report as `mailnook dns check` prints it: one block per record, the verdict first so
//! the eye finds the problems, then what was found, what to publish and why.

use super::{Report, Status};

pub fn render(r: &Report) -> String {
    let mut s = format!(
        "DNS check of the server {} and {} (asked {})\nThis server's addresses: {} ({})\n",
        r.hostname,
        if r.domains.is_empty() {
            "no mail domains yet".to_string()
        } else {
            format!("the mail domains {}", r.domains.join(", "))
        },
        r.resolver,
        if r.addresses.is_empty() {
            "unknown".to_string()
        } else {
            r.addresses.join(", ")
        },
        r.addresses_from
    );
    for w in &r.warnings {
        s.push_str(&format!("Note: {w}\n"));
    }
    let mut section = None;
    for c in &r.checks {
        if section != Some(&c.domain) {
            section = Some(&c.domain);
            if c.domain.is_empty() {
                s.push_str(&format!("\nThe server ({}):\n", r.hostname));
            } else {
                s.push_str(&format!("\nMail domain {}:\n", c.domain));
            }
        }
        s.push_str(&format!(
            "  {:<8} {:<12} {}  {}\n",
            c.status.word(),
            c.what,
            c.name,
            c.detail
        ));
        if c.status == Status::Ok || c.status == Status::Optional {
            continue;
        }
        if !c.found.is_empty() {
            s.push_str(&format!("           found:   {}\n", c.found.join(" | ")));
        }
        if !c.publish.is_empty() {
            s.push_str(&format!("           publish: {}\n", c.publish));
        }
        if !c.why.is_empty() {
            s.push_str(&format!("           why:     {}\n", c.why));
        }
    }
    s.push_str(&format!(
        "\n{} checks in {} ms.\n",
        r.checks.len(),
        r.elapsed_ms
    ));
    if r.problems == 0 {
        s.push_str("Everything mailnook needs is published.\n");
    } else {
        s.push_str(&format!(
            "{} record{} need{} attention (missing, wrong or unknown above). DNS changes can \
             take up to an hour to be seen; run `mailnook dns check` again after publishing.\n",
            r.problems,
            if r.problems == 1 { "" } else { "s" },
            if r.problems == 1 { "s" } else { "" },
        ));
    }
    s
}
