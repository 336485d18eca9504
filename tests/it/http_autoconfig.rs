//! Client autoconfiguration through the real server: the Thunderbird config-v1.1.xml names
//! the submission port, for the address's domain or the `autoconfig.<domain>` Host.

use crate::common::Server;

#[tokio::test]
async fn autoconfig_describes_the_submission_port_by_address_and_by_host() {
    let s = Server::start();
    let http = s.http();
    let url = format!(
        "{}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann%40example.org",
        s.base_url()
    );
    let res = http.get(url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("xml")
    );
    let body = res.text().await.unwrap();
    assert!(body.contains("<domain>example.org</domain>"), "{body}");
    let port = format!("<port>{}</port>", s.submission.port());
    assert!(body.contains(&port), "{body}");
    assert!(body.contains("<socketType>STARTTLS</socketType>"), "{body}");

    let body = http
        .get(format!("{}/mail/config-v1.1.xml", s.base_url()))
        .header("Host", "autoconfig.example.net")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("<domain>example.net</domain>"), "{body}");
    assert!(body.contains(&port), "{body}");

    // `mailnook dns` names the JMAP SRV record (RFC 8620 §2.2) and the autoconfig name.
    let out = s.cli(&["dns", "example.org"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("_jmap._tcp.example.org.\tIN SRV\t0 1 443 localhost."),
        "{text}"
    );
    assert!(
        text.contains("autoconfig.example.org.\tIN CNAME\tlocalhost."),
        "{text}"
    );
}
