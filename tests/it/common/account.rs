//! An account as a test holds it: address, password and JMAP account id, with the calls a test
//! makes as that user. One handle instead of passing `(server, user, password, account id)`.
#![allow(dead_code)]

use super::{CORE, MAIL, Server};
use serde_json::{Value, json};

pub struct Account<'a> {
    pub server: &'a Server,
    pub address: String,
    pub password: String,
    /// The JMAP account id the session gives this user.
    pub id: String,
}

impl<'a> Account<'a> {
    pub async fn open(server: &'a Server, address: &str, password: &str) -> Account<'a> {
        let id = server.account_id(address, password).await;
        Account {
            server,
            address: address.to_string(),
            password: password.to_string(),
            id,
        }
    }

    /// Method calls with core+mail; the methodResponses array.
    pub async fn call(&self, calls: Value) -> Vec<Value> {
        self.server.call(&self.address, &self.password, calls).await
    }

    /// Method calls with the given capabilities.
    pub async fn call_using(&self, using: &[&str], calls: Value) -> Vec<Value> {
        self.server
            .call_using(&self.address, &self.password, using, calls)
            .await
    }

    /// One method call (with `accountId` filled in when absent); its arguments. Panics on an
    /// error response, naming the method.
    pub async fn call1(&self, name: &str, mut args: Value) -> Value {
        if let Some(o) = args.as_object_mut() {
            o.entry("accountId").or_insert(json!(self.id));
        }
        let r = self
            .call_using(&[CORE, MAIL], json!([[name, args, "c"]]))
            .await;
        assert_eq!(r[0][0], json!(name), "{name} failed: {}", r[0]);
        r[0][1].clone()
    }

    /// A real JMAP client (the jmap-client crate) signed in as this account.
    pub async fn client(&self) -> jmap_client::client::Client {
        self.server.client(&self.address, &self.password).await
    }

    /// Delivers `raw` to this account over SMTP (port 25); the final reply.
    pub fn deliver(&self, raw: &[u8]) -> String {
        self.server
            .deliver("sender@example.net", &[&self.address], raw)
    }

    /// Every email id in the account.
    pub async fn email_ids(&self) -> Vec<String> {
        let r = self.call1("Email/query", json!({})).await;
        serde_json::from_value(r["ids"].clone()).unwrap_or_default()
    }
}
