//! SMTP reply codes with their enhanced status codes (RFC 5321 §4.2, RFC 3463), by name.

pub struct Reply {
    pub code: u16,
    pub status: &'static str,
    pub text: &'static str,
}

macro_rules! replies {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $status:literal, $text:literal;)*) => {
        $( $(#[$doc])* pub const $name: Reply = Reply { code: $code, status: $status, text: $text }; )*
    };
}

replies! {
    /// RFC 5321 §4.2.2: generic success.
    OK = 250, "2.0.0", "OK";
    /// RFC 5321 §3.3: sender accepted.
    SENDER_OK = 250, "2.1.0", "Sender OK";
    /// RFC 5321 §3.3: recipient accepted.
    RECIPIENT_OK = 250, "2.1.5", "Recipient OK";
    /// RFC 5321 §3.3: the message is committed to disk.
    QUEUED = 250, "2.6.0", "Message accepted";
    /// RFC 5321 §4.1.1.5: reset.
    RESET = 250, "2.0.0", "Reset";
    /// RFC 5321 §4.1.1.10: QUIT.
    BYE = 221, "2.0.0", "Bye";
    /// RFC 5321 §3.5.3: VRFY without disclosure.
    CANNOT_VRFY = 252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery";
    /// RFC 5321 §4.1.1.4: go ahead with the message.
    START_DATA = 354, "", "Start mail input; end with <CRLF>.<CRLF>";
    /// RFC 3207 §4: go ahead with TLS.
    READY_TLS = 220, "2.0.0", "Ready to start TLS";
    /// RFC 5321 §4.2.2: closing (timeout, too many errors, shutdown).
    CLOSING = 421, "4.4.2", "Closing connection";
    /// RFC 5321 §4.5.3.2: command timeout.
    TIMEOUT = 421, "4.4.2", "Timeout, closing connection";
    /// RFC 5321 §4.2.2: too many errors.
    TOO_MANY_ERRORS = 421, "4.7.0", "Too many errors, closing connection";
    /// RFC 5321 §4.2.2: local error in processing (the store failed).
    LOCAL_ERROR = 451, "4.3.0", "Local error in processing, try again later";
    /// RFC 5321 §4.2.3 452 "insufficient system storage", RFC 3463 X.3.1 "mail system full":
    /// the disk is full, the message was not stored; the client retries later.
    INSUFFICIENT_STORAGE = 452, "4.3.1", "Insufficient system storage, try again later";
    /// RFC 3463 §3.3 X.2.2 "mailbox full": the recipient's quota (RFC 9425) has no room; a
    /// temporary refusal, so the sender retries after the owner made room.
    OVER_QUOTA = 452, "4.2.2", "Mailbox full, over quota";
    /// RFC 3463 X.7.1 "delivery not authorized": the account's sending limit for this hour
    /// or day is used up (quota/send.rs); temporary, the client may retry later.
    SEND_LIMIT = 450, "4.7.1", "Sending limit reached, try again later";
    /// RFC 5321 §4.5.3.1.10: too many recipients.
    TOO_MANY_RECIPIENTS = 452, "4.5.3", "Too many recipients";
    /// RFC 5321 §4.2.2: command unrecognised.
    UNKNOWN_COMMAND = 500, "5.5.1", "Command unrecognized";
    /// RFC 5321 §4.5.3.1.4 / §4.2.2: line too long.
    LINE_TOO_LONG = 500, "5.5.2", "Line too long";
    /// RFC 5321 §4.2.2: syntax error in parameters.
    SYNTAX = 501, "5.5.4", "Syntax error in parameters or arguments";
    /// RFC 5321 §4.2.2: not implemented.
    NOT_IMPLEMENTED = 502, "5.5.1", "Command not implemented";
    /// RFC 5321 §4.2.2: bad sequence of commands.
    BAD_SEQUENCE = 503, "5.5.1", "Bad sequence of commands";
    /// RFC 1869 §6: an unknown MAIL/RCPT parameter.
    PARAM_NOT_IMPLEMENTED = 555, "5.5.4", "Parameter not recognized or not implemented";
    /// RFC 5321 §3.3: no such user here (and this is not a relay).
    NO_SUCH_USER = 550, "5.1.1", "No such user here";
    /// RFC 5321 §3.3: relaying refused.
    RELAY_DENIED = 550, "5.7.1", "Relaying denied";
    /// RFC 7489 §6.6.2 / RFC 7372: the sender's domain asks us to reject what fails DMARC.
    DMARC_REJECT = 550, "5.7.1", "Rejected by the sender domain's DMARC policy";
    /// RFC 5429 §2.1: the recipient's Sieve script rejected the message.
    SIEVE_REJECT = 550, "5.7.1", "Rejected by the recipient's filter";
    /// RFC 3463 §3.8 (5.7.1: delivery not authorized): the junk filter scored the message above
    /// the recipient's reject threshold (`[junk] mode = "reject"`, src/junk/).
    JUNK_REJECT = 550, "5.7.1", "Message refused as junk";
    /// RFC 6409 §8.1: MAIL FROM must be one of the authenticated user's addresses.
    FOREIGN_MAIL_FROM = 550, "5.7.1", "You may only send as your own addresses";
    /// RFC 6409 §8.1: the From: header must name the user's own addresses.
    FOREIGN_FROM = 550, "5.7.1", "The From: header must be one of your addresses";
    /// RFC 6409 §8.1, RFC 5322 §3.6.2: the Sender: header names who sent the message; it
    /// must be the user's own address too.
    FOREIGN_SENDER = 550, "5.7.1", "The Sender: header must be one of your addresses";
    /// RFC 5321 §3.1: the client spoke before the greeting.
    EARLY_TALKER = 554, "5.5.1", "Protocol error: data sent before the greeting";
    /// RFC 1870 §6.1: message exceeds the fixed size limit.
    TOO_BIG = 552, "5.3.4", "Message size exceeds fixed maximum message size";
    /// RFC 5321 §4.5.3.1: no valid recipients before DATA.
    NO_RECIPIENTS = 554, "5.5.1", "No valid recipients";
    /// RFC 6531 §3.4: SMTPUTF8 needed but not declared.
    NEED_TLS = 530, "5.7.0", "Must issue a STARTTLS command first";
    /// RFC 3207 §4: TLS not available now (already active).
    TLS_UNAVAILABLE = 454, "4.7.0", "TLS not available";
}

impl Reply {
    /// Formats the reply line, with the enhanced status code (RFC 2034) when there is one.
    pub fn line(&self) -> String {
        if self.status.is_empty() {
            format!("{} {}\r\n", self.code, self.text)
        } else {
            format!("{} {} {}\r\n", self.code, self.status, self.text)
        }
    }

    pub fn with(&self, text: &str) -> String {
        if self.status.is_empty() {
            format!("{} {}\r\n", self.code, text)
        } else {
            format!("{} {} {}\r\n", self.code, self.status, text)
        }
    }
}
