//! The examples of RFC 5228 §§2-5 and §9 and of each extension's RFC, run on small messages,
//! plus the limits a hostile script meets.

use super::*;
use std::collections::HashMap;

struct TestEnv {
    mailboxes: Vec<&'static str>,
    scripts: HashMap<String, String>,
    now: i64,
}

impl Env for TestEnv {
    fn mailbox_exists(&self, name: &str) -> bool {
        self.mailboxes.iter().any(|m| m.eq_ignore_ascii_case(name))
    }
    fn script(&self, name: &str, _global: bool) -> Option<std::sync::Arc<Program>> {
        compile(self.scripts.get(name)?, &Limits::default())
            .ok()
            .map(std::sync::Arc::new)
    }
    fn now(&self) -> i64 {
        self.now
    }
}

fn env() -> TestEnv {
    TestEnv {
        mailboxes: vec!["INBOX", "Junk", "lists"],
        scripts: HashMap::new(),
        now: 1_700_000_000,
    }
}

const MSG: &str = "Date: Tue, 1 Apr 1997 09:06:31 -0800\r\n\
From: coyote@desert.example.org\r\n\
To: roadrunner@acme.example.com\r\n\
Subject: I have a present for you\r\n\
X-Caffeine: C8H10N4O2\r\n\
\r\n\
Look, I'm sorry about the whole anvil thing, and I really\r\n\
didn't mean to try and drop it on you from the top of the\r\n\
cliff.  I want to try to make it up to you.  I've got some\r\n\
great birdseed over here at my place--top of the line\r\n\
stuff--and if you come by, I'll have it all wrapped up\r\n\
for you.  I'm really sorry for all the problems I've caused\r\n\
for you over the years, but I know we can work this out.\r\n\
--\r\n\
Wile E. Coyote   \"Super Genius\"   coyote@desert.example.org\r\n";

fn run_on(
    script: &str,
    msg: &str,
    from: &str,
    to: &str,
    spam: Option<u8>,
) -> Result<Vec<Action>, String> {
    run_env(script, msg, from, to, spam, &env())
}

fn run_env(
    script: &str,
    msg: &str,
    from: &str,
    to: &str,
    spam: Option<u8>,
    e: &TestEnv,
) -> Result<Vec<Action>, String> {
    let p = compile(script, &Limits::default()).map_err(|e| e.to_string())?;
    // The compiled form survives a round trip through its stored encoding.
    let stored = serde_json::to_vec(&p).map_err(|e| e.to_string())?;
    let p: Program = serde_json::from_slice(&stored).map_err(|e| e.to_string())?;
    let m = Message {
        envelope_from: from,
        envelope_to: to,
        raw: msg.as_bytes(),
        spamtest: spam,
    };
    run(&p, m, e, &Limits::default())
        .map(|o| o.actions)
        .map_err(|e| e.to_string())
}

fn go(script: &str) -> Vec<Action> {
    run_on(
        script,
        MSG,
        "coyote@desert.example.org",
        "roadrunner@acme.example.com",
        None,
    )
    .unwrap()
}

fn keep() -> Action {
    Action::Keep { flags: vec![] }
}

fn into(m: &str) -> Action {
    Action::FileInto {
        mailbox: m.into(),
        flags: vec![],
        create: false,
    }
}

#[test]
fn rfc5228_implicit_keep_and_discard() {
    assert_eq!(go(""), vec![keep()]);
    assert_eq!(go("# nothing\r\n"), vec![keep()]);
    assert_eq!(go("discard;"), vec![Action::Discard]);
    assert_eq!(go("keep; discard;"), vec![keep(), Action::Discard]);
}

#[test]
fn rfc5228_3_1_if_elsif_else() {
    let s = r#"require "fileinto";
        if header :contains "from" "coyote" {
           discard;
        } elsif header :contains ["subject"] ["$$$"] {
           discard;
        } else {
           fileinto "INBOX";
        }"#;
    assert_eq!(go(s), vec![Action::Discard]);
    let s2 = s.replace("\"coyote\"", "\"nobody\"");
    assert_eq!(go(&s2), vec![into("INBOX")]);
}

#[test]
fn rfc5228_3_2_require_and_3_3_stop() {
    let e = compile(
        "require [\"fileinto\", \"frobnicate\"];",
        &Limits::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("frobnicate"), "{e}");
    assert_eq!((e.line, e.col), (1, 1));
    let e = compile("fileinto \"x\";", &Limits::default()).unwrap_err();
    assert!(e.message.contains("require"), "{e}");
    assert_eq!(go("stop; discard;"), vec![keep()]);
    let e = compile("keep;\nrequire \"fileinto\";", &Limits::default()).unwrap_err();
    assert_eq!(e.line, 2);
}

#[test]
fn rfc5228_4_redirect_keep() {
    assert_eq!(
        go(r#"redirect "bart@example.com";"#),
        vec![Action::Redirect {
            address: "bart@example.com".into()
        }]
    );
    assert_eq!(
        go("if size :under 1M { keep; } else { discard; }"),
        vec![keep()]
    );
    assert_eq!(
        go("if size :over 10 { discard; } else { keep; }"),
        vec![Action::Discard]
    );
    assert!(compile(r#"redirect "not an address";"#, &Limits::default()).is_err());
    // Two redirects to one address go once (§4.2).
    assert_eq!(
        go(r#"redirect "a@b.example"; redirect "A@b.example";"#).len(),
        1
    );
}

#[test]
fn rfc5228_5_tests() {
    assert_eq!(
        go(r#"if address :is :all "from" "coyote@desert.example.org" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if address :domain :is "from" "DESERT.example.org" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if address :localpart :is "to" "roadrunner" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(
            r#"require "envelope"; if envelope :all :is "from" "coyote@desert.example.org" { discard; }"#
        ),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if exists ["From","Date"] { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if exists ["From","X-Nope"] { discard; }"#),
        vec![keep()]
    );
    assert_eq!(go("if false { discard; }"), vec![keep()]);
    assert_eq!(go("if true { discard; }"), vec![Action::Discard]);
    assert_eq!(
        go(r#"if header :contains ["From", "To"] "ACME.example" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if not header :contains "Subject" "present" { discard; }"#),
        vec![keep()]
    );
    assert_eq!(
        go(r#"if header :is "x-caffeine" "C8H10N4O2" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if header :comparator "i;octet" :is "x-caffeine" "c8h10n4o2" { discard; }"#),
        vec![keep()]
    );
    assert_eq!(go(r#"if allof (true, false) { discard; }"#), vec![keep()]);
    assert_eq!(
        go(r#"if anyof (false, true) { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"if header :matches "Subject" "I*present*" { discard; }"#),
        vec![Action::Discard]
    );
}

#[test]
fn rfc5228_9_complete_example() {
    let s = r#"#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
"#;
    let m = |h: &str| format!("{h}\r\n\r\nbody\r\n");
    let r = |msg: &str| run_on(s, msg, "", "me@example.com", None).unwrap();
    assert_eq!(
        r(&m("Sender: owner-ietf-mta-filters@imc.org")),
        vec![into("filter")]
    );
    assert_eq!(r(&m("From: boss@example.com")), vec![keep()]);
    assert_eq!(
        r(&m("From: x@y.example\r\nTo: other@z.example")),
        vec![into("spam")]
    );
    assert_eq!(
        r(&m(
            "To: list@lists.example\r\nCc: me@example.com\r\nSubject: MAKE MONEY FAST now"
        )),
        vec![into("spam")]
    );
    assert_eq!(
        r(&m(
            "To: list@lists.example\r\nCc: me@example.com\r\nSubject: hello"
        )),
        vec![into("personal")]
    );
}

#[test]
fn errors_have_line_and_column() {
    let e = compile(
        "if header :is \"a\" \"b\" {\n  discard\n}",
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!((e.line, e.col), (3, 1), "{e}");
    let e = compile("keep;\n  frobnicate;", &Limits::default()).unwrap_err();
    assert_eq!((e.line, e.col), (2, 3), "{e}");
    let e = compile("if size :over \"x\" { stop; }", &Limits::default()).unwrap_err();
    assert_eq!((e.line, e.col), (1, 4), "{e}");
    let e = compile("if header :frob \"a\" \"b\" { stop; }", &Limits::default()).unwrap_err();
    assert!(e.message.contains("frob"));
    let e = compile("keep", &Limits::default()).unwrap_err();
    assert!(e.message.contains("end of script"), "{e}");
    assert!(e.to_string().starts_with("line 1, column 1:"), "{e}");
    // What the message names is what is wrong.
    let e = compile("keep;\n\"x\" foo;", &Limits::default()).unwrap_err();
    assert_eq!(
        (e.line, e.col, e.message.as_str()),
        (2, 1, "expected a command"),
        "{e}"
    );
    let e = compile("keep; }", &Limits::default()).unwrap_err();
    assert_eq!(e.message, "unexpected '}'", "{e}");
    let e = compile("elsif true { keep; }", &Limits::default()).unwrap_err();
    assert_eq!(e.message, "elsif without if", "{e}");
}

#[test]
fn rfc5232_imap4flags() {
    let s = r#"require ["imap4flags", "fileinto", "variables"];
        if size :over 1 {
            setflag "MyFlags" "\\Deleted";
            addflag "MyFlags" ["\\Seen", "\\deleted"];
            fileinto :flags "${MyFlags}" "Trash";
        }
        addflag "\\Flagged";
        addflag ["$Work important", "\\flagged"];
        removeflag "important";
        if hasflag :contains "work" { keep; }"#;
    assert_eq!(
        go(s),
        vec![
            Action::FileInto {
                mailbox: "Trash".into(),
                flags: vec!["\\Deleted".into(), "\\Seen".into()],
                create: false
            },
            Action::Keep {
                flags: vec!["\\Flagged".into(), "$Work".into()]
            },
        ]
    );
    // The implicit keep takes the internal flags too (RFC 5232 §5).
    assert_eq!(
        go(r#"require "imap4flags"; addflag "$label1";"#),
        vec![Action::Keep {
            flags: vec!["$label1".into()]
        }]
    );
}

#[test]
fn rfc3894_copy() {
    assert_eq!(
        go(
            r#"require ["copy", "fileinto"]; fileinto :copy "incoming"; redirect :copy "b@x.example";"#
        ),
        vec![
            into("incoming"),
            Action::Redirect {
                address: "b@x.example".into()
            },
            keep()
        ]
    );
}

#[test]
fn rfc5173_body() {
    let s = r#"require ["body", "fileinto"];
        if body :text :contains "birdseed" { fileinto "seeds"; }"#;
    assert_eq!(go(s), vec![into("seeds")]);
    assert_eq!(
        go(r#"require "body"; if body :raw :contains "anvil thing" { discard; }"#),
        vec![Action::Discard]
    );
    let html = "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>MAKE <b>MONEY</b></p>\r\n--b\r\nContent-Type: application/x-stuff\r\n\r\nsecret\r\n--b--\r\n";
    let r = |s: &str| run_on(s, html, "", "a@b.example", None).unwrap();
    assert_eq!(
        r(r#"require "body"; if body :text :contains "MAKE MONEY" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        r(r#"require "body"; if body :content "application" :contains "secret" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        r(r#"require "body"; if body :text :contains "secret" { discard; }"#),
        vec![keep()]
    );
}

#[test]
fn rfc5229_variables() {
    let s = r#"require ["fileinto", "variables"];
        if header :matches "List-ID" "*<*@*" {
            fileinto "INBOX.lists.${2}"; stop;
        }
        # Imagine the header
        # Subject: [acme-users] [fwd] version 1.0 is out
        if header :matches "Subject" "[*] *" {
            # ${1} will hold "acme-users",
            # ${2} will hold "[fwd] version 1.0 is out"
            fileinto "INBOX.lists.${1}"; stop;
        }"#;
    let m1 = "List-ID: Acme <acme-users@lists.example>\r\n\r\nx\r\n";
    assert_eq!(
        run_on(s, m1, "", "a@b.example", None).unwrap(),
        vec![into("INBOX.lists.acme-users")]
    );
    let m2 = "Subject: [acme-users] [fwd] version 1.0 is out\r\n\r\nx\r\n";
    assert_eq!(
        run_on(s, m2, "", "a@b.example", None).unwrap(),
        vec![into("INBOX.lists.acme-users")]
    );

    let s = r#"require ["variables", "fileinto"];
        set "honorific"  "Mr";
        set "first_name" "Wile";
        set "last_name"  "Coyote";
        set "a" "juMBlEd lETteRS";
        set :length "length" "${a}";
        set :lower "b" "${a}";
        set :upperfirst "c" "${b}";
        set :upperfirst :lower "d" "${a}";
        set :quotewildcard "e" "Rock*";
        fileinto "${HONORIFIC} ${last_name}|${length}|${b}|${c}|${d}|${e}|${unknown}|${bad";
        if string :is "${first_name}" "Wile" { discard; }"#;
    assert_eq!(
        go(s),
        vec![
            into("Mr Coyote|15|jumbled letters|Jumbled letters|Jumbled letters|Rock\\*||${bad"),
            Action::Discard
        ]
    );
    // Without require "variables", ${...} is literal.
    assert_eq!(
        go(r#"require "fileinto"; fileinto "${x}";"#),
        vec![into("${x}")]
    );
    assert!(
        compile(
            r#"require "variables"; set :lower :upper "a" "b";"#,
            &Limits::default()
        )
        .is_err()
    );
}

#[test]
fn rfc5230_vacation() {
    let s = r#"require "vacation";
        if header :contains "subject" "cyrus" {
            vacation "I'm out -- send mail to cyrus-bugs";
        } else {
            vacation "I'm out -- call me at +1 304 555 0123";
        }"#;
    let acts = go(s);
    let Action::Vacation(v) = &acts[0] else {
        panic!("{acts:?}")
    };
    assert_eq!(v.reason, "I'm out -- call me at +1 304 555 0123");
    assert_eq!(v.period, 7 * 86_400);
    assert_eq!(acts[1], keep());
    // Not addressed to the user (§4.5): no reply.
    let r = run_on(
        s,
        MSG,
        "coyote@desert.example.org",
        "someone@else.example",
        None,
    )
    .unwrap();
    assert_eq!(r, vec![keep()]);
    // ... unless :addresses names the address it came to.
    let s2 = r#"require "vacation"; vacation :days 23 :addresses ["tjs@example.edu", "roadrunner@acme.example.com"] :subject "gone" "away";"#;
    let r = run_on(s2, MSG, "c@d.example", "tjs+x@example.edu", None).unwrap();
    assert!(
        matches!(&r[0], Action::Vacation(v) if v.period == 23 * 86_400 && v.subject.as_deref() == Some("gone"))
    );
    assert!(
        run_on(
            r#"require "vacation"; vacation "a"; vacation "b";"#,
            MSG,
            "",
            "roadrunner@acme.example.com",
            None
        )
        .is_err()
    );
    assert!(
        compile(
            r#"require "vacation"; vacation :seconds 5 "x";"#,
            &Limits::default()
        )
        .is_err()
    );
    assert!(
        compile(
            r#"require ["vacation", "vacation-seconds"]; vacation :seconds 5 "x";"#,
            &Limits::default()
        )
        .is_ok()
    );
}

#[test]
fn rfc5231_relational() {
    let m = "From: a@x.example\r\nTo: b@x.example, c@x.example\r\nCc: d@x.example\r\nX-Priority: 12\r\n\r\nx\r\n";
    let r = |s: &str| run_on(s, m, "", "b@x.example", None).unwrap();
    assert_eq!(
        r(r#"require ["relational", "comparator-i;ascii-numeric"];
            if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"] { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        r(r#"require ["relational", "comparator-i;ascii-numeric"];
            if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "3" { discard; }"#),
        vec![keep()]
    );
    assert_eq!(
        r(r#"require ["relational", "comparator-i;ascii-numeric"];
            if header :value "gt" :comparator "i;ascii-numeric" "x-priority" "3" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        r(r#"require ["relational", "comparator-i;ascii-numeric"]; if address :count "eq" :comparator "i;ascii-numeric" "bcc" "0" { discard; }"#)
            .len(),
        1
    );
    assert_eq!(
        r(r#"require "relational"; if header :value "gt" "from" "A" { discard; }"#),
        vec![Action::Discard]
    );
    assert!(
        compile(
            r#"require "relational"; if header :value "xx" "a" "b" { stop; }"#,
            &Limits::default()
        )
        .is_err()
    );
}

#[test]
fn rfc5233_subaddress() {
    let s = r#"require ["envelope", "subaddress", "fileinto"];
        if envelope :user "to" "ken" {
            if envelope :detail "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; }
            elsif envelope :detail "to" "" { fileinto "inbox.empty"; }
        }"#;
    let r = |to: &str| run_on(s, MSG, "", to, None).unwrap();
    assert_eq!(
        r("ken+mta-filters@example.org"),
        vec![into("inbox.ietf-mta-filters")]
    );
    assert_eq!(r("ken+@example.org"), vec![into("inbox.empty")]);
    assert_eq!(r("ken@example.org"), vec![keep()]);
}

#[test]
fn rfc5429_reject() {
    let s = r#"require ["reject"];
        if address "from" "coyote@desert.example.org" {
            reject "I am not taking mail from you, and I don't want your birdseed, either!";
        }"#;
    assert!(matches!(
        &go(s)[..],
        [Action::Reject { ereject: false, .. }]
    ));
    assert!(matches!(
        &go(r#"require "ereject"; ereject "no";"#)[..],
        [Action::Reject { ereject: true, .. }]
    ));
    assert!(
        run_on(
            r#"require ["reject", "fileinto"]; fileinto "a"; reject "no";"#,
            MSG,
            "",
            "x@y.example",
            None
        )
        .is_err()
    );
}

#[test]
fn rfc5490_mailbox() {
    let s = r#"require ["fileinto", "mailbox"];
        if mailboxexists "Junk" { fileinto :create "INBOX.new"; }
        if mailboxexists ["Junk", "Nope"] { discard; }"#;
    assert_eq!(
        go(s),
        vec![Action::FileInto {
            mailbox: "INBOX.new".into(),
            flags: vec![],
            create: true
        }]
    );
}

#[test]
fn rfc5260_date_and_index() {
    let s = r#"require ["date", "relational", "fileinto"];
        if allof (date :value "ge" :originalzone "date" "hour" "09",
                  date :value "lt" :originalzone "date" "hour" "17")
        { fileinto "urgent"; }"#;
    assert_eq!(go(s), vec![into("urgent")]);
    assert_eq!(
        go(r#"require "date"; if date :is "date" "date" "1997-04-01" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"require "date"; if date :is :zone "+0000" "date" "hour" "17" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(r#"require "date"; if date :is "date" "weekday" "2" { discard; }"#),
        vec![Action::Discard]
    );
    // currentdate: the environment's clock (2023-11-14T22:13:20Z).
    assert_eq!(
        go(r#"require "date"; if currentdate :is "date" "2023-11-14" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        go(
            r#"require ["date", "relational"]; if currentdate :value "lt" "year" "2020" { discard; }"#
        ),
        vec![keep()]
    );
    let m = "Received: from a by b; Tue, 1 Apr 1997 10:00:00 +0000\r\nReceived: from c by d; Mon, 31 Mar 1997 10:00:00 +0000\r\nX-Test: one\r\nX-Test: two\r\n\r\nx\r\n";
    let r = |s: &str| run_on(s, m, "", "a@b.example", None).unwrap();
    assert_eq!(
        r(
            r#"require ["date", "index"]; if date :index 2 :is "received" "date" "1997-03-31" { discard; }"#
        ),
        vec![Action::Discard]
    );
    assert_eq!(
        r(r#"require "index"; if header :index 1 :last :is "x-test" "two" { discard; }"#),
        vec![Action::Discard]
    );
    assert_eq!(
        r(r#"require "index"; if header :index 1 :is "x-test" "two" { discard; }"#),
        vec![keep()]
    );
    assert!(
        compile(
            r#"if header :index 1 :is "a" "b" { stop; }"#,
            &Limits::default()
        )
        .is_err()
    );
}

#[test]
fn rfc5235_spamtest() {
    let s = r#"require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
        if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
        elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" { fileinto "INBOX.spam-trap"; }"#;
    let r = |v: Option<u8>| run_on(s, MSG, "", "a@b.example", v).unwrap();
    assert_eq!(r(None), vec![into("INBOX.unclassified")]);
    assert_eq!(r(Some(9)), vec![into("INBOX.spam-trap")]);
    assert_eq!(r(Some(1)), vec![keep()]);
    let p = r#"require ["spamtestplus", "fileinto", "relational", "comparator-i;ascii-numeric"];
        if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "50" { fileinto "INBOX.spam-trap"; }"#;
    assert_eq!(
        run_on(p, MSG, "", "a@b.example", Some(10)).unwrap(),
        vec![into("INBOX.spam-trap")]
    );
    assert_eq!(
        run_on(p, MSG, "", "a@b.example", Some(4)).unwrap(),
        vec![keep()]
    );
}

#[test]
fn rfc6609_include() {
    let mut e = env();
    e.scripts.insert(
        "always_allow".into(),
        r#"require ["include", "variables"]; global "who"; if address :is "from" "${who}" { keep; return; } discard;"#.into(),
    );
    e.scripts.insert(
        "loop".into(),
        r#"require "include"; include "loop";"#.into(),
    );
    let s = r#"require ["include", "variables"];
        global "who";
        set "who" "coyote@desert.example.org";
        include :personal "always_allow";
        include :once :optional "missing";"#;
    assert_eq!(
        run_env(s, MSG, "", "x@y.example", None, &e).unwrap(),
        vec![keep()]
    );
    let err = run_env(
        r#"require "include"; include "loop";"#,
        MSG,
        "",
        "x@y.example",
        None,
        &e,
    )
    .unwrap_err();
    assert!(err.contains("nested"), "{err}");
    // Repeats multiply (17 x 17 here): their number is bounded, not only their depth.
    e.scripts
        .insert("leaf".into(), r#"if false { keep; }"#.into());
    let fan = |target: &str| {
        format!(
            r#"require "include"; {}"#,
            format!("include \"{target}\"; ").repeat(17)
        )
    };
    e.scripts.insert("fan".into(), fan("leaf"));
    let err = run_env(&fan("fan"), MSG, "", "x@y.example", None, &e).unwrap_err();
    assert!(err.contains("more than 256 includes"), "{err}");
    e.scripts.insert(
        "few".into(),
        format!(r#"require "include"; {}"#, "include \"leaf\"; ".repeat(15)),
    );
    let top = format!(r#"require "include"; {}"#, "include \"few\"; ".repeat(15));
    assert_eq!(
        run_env(&top, MSG, "", "x@y.example", None, &e).unwrap(),
        vec![keep()]
    );
    assert!(
        run_env(
            r#"require "include"; include "missing";"#,
            MSG,
            "",
            "x@y.example",
            None,
            &e
        )
        .is_err()
    );
}

#[test]
fn hostile_scripts_are_bounded() {
    let l = Limits::default();
    // Size.
    let big = format!("# {}\r\nkeep;", "x".repeat(l.max_script_bytes));
    assert!(compile(&big, &l).unwrap_err().message.contains("larger"));
    // Nesting: blocks and tests.
    let deep = format!("{}keep;{}", "if true {".repeat(100), "}".repeat(100));
    assert!(
        compile(&deep, &l)
            .unwrap_err()
            .message
            .contains("nested more than")
    );
    let deep = format!("if {}true{} {{ keep; }}", "not ".repeat(10_000), "");
    assert!(compile(&deep, &l).is_err());
    let deep = format!(
        "if {}true{} {{ keep; }}",
        "anyof(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(compile(&deep, &l).is_err());
    // Actions and redirects per message.
    let many: String = (0..100).map(|i| format!("fileinto \"f{i}\";")).collect();
    let err = run_on(
        &format!("require \"fileinto\"; {many}"),
        MSG,
        "",
        "a@b.example",
        None,
    )
    .unwrap_err();
    assert!(err.contains("actions"), "{err}");
    let many: String = (0..10)
        .map(|i| format!("redirect \"r{i}@x.example\";"))
        .collect();
    let err = run_on(&many, MSG, "", "a@b.example", None).unwrap_err();
    assert!(err.contains("redirects"), "{err}");
    // CPU: a pathological :matches over a long header, many times.
    let long = format!("Subject: {}\r\n\r\nx\r\n", "a".repeat(60_000));
    let s = format!(
        "if anyof({}) {{ discard; }}",
        vec![r#"header :matches "subject" "*a*a*a*a*a*a*a*a*b""#; 400].join(",")
    );
    let err = run_on(&s, &long, "", "a@b.example", None).unwrap_err();
    assert!(err.contains("CPU"), "{err}");
    // Variables cannot grow without bound: doubling a string 40 times is cut at max_string.
    let s = format!(
        "require [\"variables\", \"relational\", \"comparator-i;ascii-numeric\"]; set \"a\" \"xxxxxxxx\"; {} set :length \"n\" \"${{a}}\"; if string :value \"le\" :comparator \"i;ascii-numeric\" \"${{n}}\" \"{}\" {{ discard; }}",
        "set \"a\" \"${a}${a}\";".repeat(40),
        l.max_string
    );
    assert_eq!(
        run_on(&s, MSG, "", "a@b.example", None).unwrap(),
        vec![Action::Discard]
    );
}

/// Work a test does on the message is charged for the message's size, not a flat few units
/// (each of these ran for 17-66 s of CPU per message before).
#[test]
fn message_sized_work_is_charged() {
    // Header names x keys over a long folded Subject.
    let subject: String = (0..2_000)
        .map(|_| format!("{}\r\n ", "a".repeat(70)))
        .collect();
    let long = format!("Subject: {subject}x\r\n\r\nbody\r\n");
    let names = vec!["\"subject\""; 60].join(",");
    let keys = vec!["\"x\""; 60].join(",");
    let s = format!("if header :matches [{names}] [{keys}] {{ discard; }}");
    let err = run_on(&s, &long, "", "a@b.example", None).unwrap_err();
    assert!(err.contains("CPU"), "{err}");
    // exists over many header fields, many times.
    let fields: String = (0..12_500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("{fields}Subject: s\r\n\r\nbody\r\n");
    let s = "if exists \"x-none\" { discard; } ".repeat(1_500);
    let err = run_on(&s, &many, "", "a@b.example", None).unwrap_err();
    assert!(err.contains("CPU"), "{err}");
    // A flag list keeps at most 256 distinct flags, however many are added.
    let words: Vec<String> = (0..4_000).map(|i| format!("f{i}")).collect();
    let s = format!(
        "require [\"imap4flags\", \"variables\"]; set \"x\" \"{}\"; {} keep;",
        words.join(" "),
        "addflag \"${x}\"; ".repeat(50)
    );
    let acts = run_on(&s, MSG, "", "a@b.example", None).unwrap();
    match acts.first() {
        Some(Action::Keep { flags }) => assert_eq!(flags.len(), 256),
        other => panic!("{other:?}"),
    }
}

/// The spamtest example of README.md ("Filters (Sieve)"), word for word.
#[test]
fn readme_spamtest_example() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```sieve\nrequire [\"spamtest\"")
        .expect("the README's spamtest example");
    let body = &readme[start + "```sieve\n".len()..];
    let script = &body[..body.find("```").expect("end of the block")];
    let check = |v: u8| run_on(script, MSG, "", "a@b.example", Some(v)).unwrap();
    assert_eq!(check(4), vec![into("Check")]);
    assert_eq!(check(5), vec![into("Check")]);
    assert_eq!(check(6), vec![keep()]);
    assert_eq!(check(9), vec![keep()]);
    assert_eq!(check(2), vec![keep()]);
}
