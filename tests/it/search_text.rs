//! Full-text search through the real server: mail sent over SMTP becomes findable by the text
//! conditions of Email/query (RFC 8621 §4.4.1) within a bounded wait, in every field, whatever
//! the case or accents, in scripts without spaces, and by header.

use crate::common;
use crate::search_util;
#[allow(unused_imports)]
use common::*;
use search_util::*;
use serde_json::json;

#[tokio::test]
async fn a_word_sent_over_smtp_is_found_by_text() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(
        &s,
        &mail("Subject: Quarterly report", "The zanzibar figures are in."),
    );
    send(&s, &mail("Subject: Lunch", "Shall we meet at noon?"));
    settle(&s, &acct).await;
    let found = wait_for(&s, &acct, json!({"text": "zanzibar"}), 1).await;
    assert_eq!(subjects(&s, &acct, &found).await, ["Quarterly report"]);
    // Every word must be present (RFC 8621 §4.4.1), in any of the searched fields.
    assert_eq!(
        ids(&s, &acct, json!({"text": "zanzibar quarterly"})).await,
        found
    );
    assert!(
        ids(&s, &acct, json!({"text": "zanzibar noon"}))
            .await
            .is_empty()
    );
    // A word that is nowhere finds nothing; a query of only punctuation restricts nothing.
    assert!(
        ids(&s, &acct, json!({"text": "xylophone"}))
            .await
            .is_empty()
    );
    assert_eq!(ids(&s, &acct, json!({"text": "?!"})).await.len(), 2);
}

#[tokio::test]
async fn each_field_condition_looks_in_its_own_field() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    let raw = "From: Fernando Pessoa <fernando@poets.example>\r\n\
        To: Alice <alice@example.org>, Tobias Tolkien <tobias@to.example>\r\n\
        Cc: Cecilia Copper <cecilia@cc.example>\r\n\
        Bcc: Bartholomew Blind <bart@bcc.example>\r\n\
        Subject: Subjective matters\r\n\
        Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
        --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe bodyword lives here.\r\n\
        --b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-ledger.pdf\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";
    send(&s, raw.as_bytes());
    send(&s, &mail("Subject: Unrelated", "Nothing to see."));
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"text": "bodyword"}), 1).await;

    let cases = [
        ("from", "pessoa", "fernando@poets.example"),
        ("to", "tolkien", "tobias@to.example"),
        ("cc", "copper", "cecilia@cc.example"),
        ("bcc", "bartholomew", "bart@bcc.example"),
        ("subject", "subjective", "Subjective"),
        ("body", "bodyword", "lives here"),
    ];
    for (field, word, other) in cases {
        assert_eq!(
            ids(&s, &acct, json!({ field: word })).await.len(),
            1,
            "{field}: {word}"
        );
        assert_eq!(
            ids(&s, &acct, json!({ field: other })).await.len(),
            1,
            "{field}: {other}"
        );
        // ... and only there: the body word is not in the subject, and so on.
        let elsewhere = if field == "body" { "subject" } else { "body" };
        assert!(
            ids(&s, &acct, json!({ elsewhere: word })).await.is_empty(),
            "{word} must not match {elsewhere}"
        );
    }
    // `text` covers them all, attachment names included.
    for word in [
        "pessoa",
        "tolkien",
        "copper",
        "bartholomew",
        "subjective",
        "bodyword",
        "ledger",
    ] {
        assert_eq!(
            ids(&s, &acct, json!({"text": word})).await.len(),
            1,
            "text: {word}"
        );
    }
}

#[tokio::test]
async fn case_and_accents_do_not_matter() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(
        &s,
        &mail(
            "Subject: =?UTF-8?Q?Cr=C3=A8me_br=C3=BBl=C3=A9e?=",
            "Ünïcödé ÅNGSTRÖM naïve Straße",
        ),
    );
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"text": "creme"}), 1).await;
    for q in [
        "CRÈME",
        "Brulee",
        "brûlée",
        "unicode",
        "ÜNÏCÖDÉ",
        "angstrom",
        "NAIVE",
        "strasse",
    ] {
        assert_eq!(ids(&s, &acct, json!({"text": q})).await.len(), 1, "{q}");
    }
    // The encoded-word subject was decoded before indexing (RFC 2047).
    assert_eq!(ids(&s, &acct, json!({"subject": "crème"})).await.len(), 1);
}

#[tokio::test]
async fn words_in_scripts_without_spaces_are_found() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(
        &s,
        &mail(
            "Subject: =?UTF-8?B?5Lya6K2w44Gu44GK55+l44KJ44Gb?=",
            "明日は東京都庁で会議があります。",
        ),
    );
    send(&s, &mail("Subject: Thai", "ภาษาไทยเป็นภาษาที่สวยงาม"));
    send(&s, &mail("Subject: Kyoto", "京都に行きます"));
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"text": "東京"}), 1).await;
    assert_eq!(ids(&s, &acct, json!({"body": "東京都庁"})).await.len(), 1);
    assert_eq!(
        ids(&s, &acct, json!({"subject": "お知らせ"})).await.len(),
        1
    );
    assert_eq!(
        ids(&s, &acct, json!({"text": "京都"})).await.len(),
        2,
        "東京都 contains 京都 too"
    );
    assert_eq!(
        ids(&s, &acct, json!({"text": "庁"})).await.len(),
        1,
        "a single character"
    );
    assert_eq!(ids(&s, &acct, json!({"text": "ภาษาไทย"})).await.len(), 1);
    assert!(ids(&s, &acct, json!({"text": "大阪"})).await.is_empty());
}

#[tokio::test]
async fn phrases_in_quotes_match_in_order() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(&s, &mail("Subject: one", "the quick brown fox"));
    send(&s, &mail("Subject: two", "the brown quick fox"));
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"text": "fox"}), 2).await;
    assert_eq!(
        ids(&s, &acct, json!({"text": "quick brown"})).await.len(),
        2
    );
    let one = ids(&s, &acct, json!({"text": "\"quick brown\""})).await;
    assert_eq!(subjects(&s, &acct, &one).await, ["one"]);
    let two = ids(&s, &acct, json!({"body": "'brown quick'"})).await;
    assert_eq!(subjects(&s, &acct, &two).await, ["two"]);
}

#[tokio::test]
async fn html_bodies_are_searched_as_text() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    let raw = "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: html\r\n\
        Content-Type: text/html; charset=utf-8\r\n\r\n\
        <html><head><style>.secretstyle{color:red}</style></head>\
        <body><p>Visible <b>paragraph</b> text &amp; caf&eacute;</p></body></html>\r\n";
    send(&s, raw.as_bytes());
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"body": "paragraph"}), 1).await;
    assert_eq!(ids(&s, &acct, json!({"body": "cafe"})).await.len(), 1);
    assert!(
        ids(&s, &acct, json!({"body": "secretstyle"}))
            .await
            .is_empty(),
        "CSS is markup"
    );
    assert!(
        ids(&s, &acct, json!({"body": "html"})).await.is_empty(),
        "tags are markup"
    );
}

#[tokio::test]
async fn header_filter_by_name_and_value() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(
        &s,
        &mail(
            "Subject: listed\r\nList-Id: Gardening Club <garden.lists.example>\r\nX-Mood: sunny",
            "a",
        ),
    );
    send(&s, &mail("Subject: plain", "b"));
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"header": ["List-Id"]}), 1).await;
    assert_eq!(
        ids(&s, &acct, json!({"header": ["list-id", "gardening"]}))
            .await
            .len(),
        1
    );
    assert_eq!(
        ids(
            &s,
            &acct,
            json!({"header": ["LIST-ID", "garden.lists.example"]})
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        ids(&s, &acct, json!({"header": ["x-mood", "SUNNY"]}))
            .await
            .len(),
        1
    );
    assert!(
        ids(&s, &acct, json!({"header": ["x-mood", "gardening"]}))
            .await
            .is_empty()
    );
    assert!(
        ids(&s, &acct, json!({"header": ["X-Missing"]}))
            .await
            .is_empty()
    );
    // Every message has a Subject.
    assert_eq!(
        ids(&s, &acct, json!({"header": ["subject"]})).await.len(),
        2
    );
    // Bad shapes are invalidArguments, not a crash.
    for bad in [
        json!({"header": []}),
        json!({"header": ["a", "b", "c"]}),
        json!({"header": "x"}),
    ] {
        let r = s
            .call(
                USER,
                PASS,
                json!([["Email/query", {"accountId": acct, "filter": bad}, "q"]]),
            )
            .await;
        assert_eq!(r[0][0], "error");
        assert_eq!(r[0][1]["type"], "invalidArguments", "{}", r[0]);
    }
}

#[tokio::test]
async fn text_combines_with_store_conditions_and_operators() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(&s, &mail("Subject: apple pie", "recipe"));
    send(&s, &mail("Subject: apple tart", "recipe"));
    send(&s, &mail("Subject: cherry pie", "recipe"));
    settle(&s, &acct).await;
    wait_for(&s, &acct, json!({"text": "recipe"}), 3).await;
    let or = json!({"operator": "OR", "conditions": [{"subject": "tart"}, {"subject": "cherry"}]});
    assert_eq!(ids(&s, &acct, or).await.len(), 2);
    let not = json!({"operator": "AND", "conditions": [
        {"text": "apple"},
        {"operator": "NOT", "conditions": [{"subject": "pie"}]}
    ]});
    let found = ids(&s, &acct, not).await;
    assert_eq!(subjects(&s, &acct, &found).await, ["apple tart"]);
    // With a mailbox condition and a total.
    let r = s
        .call(
            USER,
            PASS,
            json!([["Mailbox/get", {"accountId": acct}, "m"]]),
        )
        .await;
    let inbox = r[0][1]["list"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["role"] == "inbox"))
        .and_then(|m| m["id"].as_str())
        .expect("inbox")
        .to_string();
    let r = query(
        &s,
        &acct,
        json!({"filter": {"inMailbox": inbox, "text": "pie"}, "calculateTotal": true}),
    )
    .await;
    assert_eq!(r["total"], 2, "{r}");
}
