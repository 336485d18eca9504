//! The commands without a state of their own: RSET, NOOP, VRFY, HELP, QUIT (RFC 5321 §4.1.1).

use crate::smtp::reply;
use crate::smtp::session::{Next, Session};

/// RSET (§4.1.1.5): drop the transaction, keep the HELO.
pub fn rset(s: &mut Session) -> Next {
    s.reset();
    s.reply(&reply::RESET.line());
    Next::Continue
}

pub fn noop(s: &mut Session) -> Next {
    s.reply(&reply::OK.line());
    Next::Continue
}

/// VRFY (§3.5.3): we do not say who exists.
pub fn vrfy(s: &mut Session) -> Next {
    s.reply(&reply::CANNOT_VRFY.line());
    Next::Continue
}

pub fn help(s: &mut Session) -> Next {
    s.reply("214 2.0.0 See RFC 5321\r\n");
    Next::Continue
}

/// QUIT (§4.1.1.10): answer, then close.
pub async fn quit(s: &mut Session) -> Next {
    s.reply(&reply::BYE.line());
    let _ = s.conn.flush().await;
    Next::Quit
}
