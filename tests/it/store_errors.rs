//! Issue 21: the store's "state too old" is its own error (`StoreError::StateTooOld`), no
//! longer an `Invalid` that every `/changes` and `/queryChanges` had to guess at. Each method
//! that reads the changelog answers a state this server never issued (from the future) with
//! cannotCalculateChanges (RFC 8620 §5.2, §5.6), through the real server. The trimmed-log case
//! is `core_changes::trimmed_log_means_cannot_calculate_changes`; a full disk (452 over SMTP)
//! is `store_disk_full`.

use crate::common::{CORE, MAIL, SUBMISSION, Server};
use serde_json::json;

const USER: &str = "states@example.org";
const PASS: &str = "a state from the future";

#[tokio::test]
async fn every_changes_method_refuses_a_state_from_the_future() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let future = "99999999";
    let calls = [
        ("Email/changes", "sinceState"),
        ("Thread/changes", "sinceState"),
        ("Mailbox/changes", "sinceState"),
        ("Identity/changes", "sinceState"),
        ("EmailSubmission/changes", "sinceState"),
        ("Email/queryChanges", "sinceQueryState"),
        ("Mailbox/queryChanges", "sinceQueryState"),
        ("EmailSubmission/queryChanges", "sinceQueryState"),
    ];
    for (method, arg) in calls {
        let r = s
            .call_using(
                USER,
                PASS,
                &[CORE, MAIL, SUBMISSION],
                json!([[method, {"accountId": acct, arg: future}, "c"]]),
            )
            .await;
        assert_eq!(r[0][0], json!("error"), "{method}: {r:?}");
        assert_eq!(
            r[0][1]["type"],
            json!("cannotCalculateChanges"),
            "{method}: {r:?}"
        );
    }
}
