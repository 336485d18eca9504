//! Why each record matters, in words for someone who runs mail for a family, not for a living.
//! A record this file does not know (one added to the expected list later) is explained by the
//! note it carries in that list.

pub fn why(what: &str, note: &str) -> String {
    let s = match what {
        "MX" => {
            "Other mail servers look up this record to learn where to deliver mail for your \
             addresses. Without it, or pointing elsewhere, nobody's mail reaches you."
        }
        "A" => {
            "Mail servers, phones and browsers find this server by its name through this record."
        }
        "AAAA" => {
            "The same for IPv6. If it is published it must be right, or some senders cannot \
             reach you."
        }
        "SPF" => {
            "Tells Gmail, Outlook and the others that this server may send mail for your \
             addresses. Without it your mail lands in spam or is refused."
        }
        "DKIM" => {
            "mailnook signs every message it sends; receivers check the signature with this \
             key. Without the right key your mail looks forged and lands in spam."
        }
        "DMARC" => {
            "Tells receivers what to do with mail that pretends to come from you, and lets them \
             trust yours. Gmail and Yahoo expect it."
        }
        "reverse DNS" => {
            "Many mail servers refuse mail from an address whose reverse name does not lead \
             back to the server's name; only the provider of the machine can set it."
        }
        "JMAP SRV" => "Lets mail apps find the server from just an email address.",
        "autoconfig" => "Thunderbird and other mail apps set themselves up from this name.",
        "MTA-STS" => {
            "Tells other mail servers to deliver to you only over a checked, encrypted \
             connection, so nobody on the way can read or divert your mail."
        }
        "MTA-STS host" => {
            "Other mail servers fetch your MTA-STS policy from this name; it must lead to this \
             server."
        }
        "TLS-RPT" => {
            "Other mail servers send a daily report to this address when they could not \
             deliver to you securely."
        }
        _ => "",
    };
    if s.is_empty() {
        note.to_string()
    } else {
        s.to_string()
    }
}
