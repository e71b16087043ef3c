//! E-mail 2FA when the mail cannot go out: a refused connection, a server refusing service,
//! a server that never answers. Each login answers 503 within the delivery limit, withdraws
//! the code, and says so in the log; `sendEmailCode` answers success regardless, as it
//! mails after answering.

use crate::email_2fa::{ENABLE, FROM, LOGIN, SEND, app_mailing_to, email_user, login, password};
use crate::helpers::*;
use crate::helpers_smtp::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Enables e-mail 2FA for alice on `app`, then asks for a code that cannot be delivered.
async fn undeliverable(app: &TestApp) {
    email_user(app, "alice").await;
    let started = Instant::now();
    let (status, body) = login(app, "alice", None).await;
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["success"], json!(false));
    assert!(body["error"].as_str().unwrap().contains("could not be sent"), "{body}");
    let stored: Option<Vec<u8>> =
        app.store().query_row("SELECT code_hash FROM email_2fa", params![], |r| r.get(0)).unwrap();
    assert_eq!(stored, None, "an undelivered code is withdrawn");
    let answer = app.post(SEND, json!({"emailOrUsername": "alice"}), None).await;
    assert_eq!(answer, (StatusCode::OK, json!({"success": true})));
}

#[tokio::test]
async fn a_refused_connection_answers_503() {
    undeliverable(&app_mailing_to(&closed_port_url()).await).await;
}

#[tokio::test]
async fn a_server_refusing_service_answers_503() {
    let sink = SmtpSink::refusing().await;
    undeliverable(&app_mailing_to(&sink.url()).await).await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_503() {
    let sink = SmtpSink::silent().await;
    undeliverable(&app_mailing_to(&sink.url()).await).await;
}

#[test]
fn a_failed_delivery_is_logged() {
    let smtp_url = closed_port_url().replace("smtp://", "smtp://mailer:hunter2@");
    let mut server = ServerProcess::start(&[
        ("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("TOKEND_SMTP_URL", smtp_url.as_str()),
        ("TOKEND_SMTP_FROM", FROM),
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let post = |path: &str, body: Value, auth: Option<(&str, &str)>| {
            let mut req = client.post(server.url(path)).json(&body);
            if let Some((id, token)) = auth {
                req = req.header("X-User-Id", id).header("X-Auth-Token", token);
            }
            async move {
                let resp = req.send().await.unwrap();
                (resp.status(), resp.json::<Value>().await.unwrap())
            }
        };
        let (_, admin) = post(LOGIN, json!({"user": "admin", "password": ADMIN_PASSWORD}), None).await;
        let admin = (admin["data"]["userId"].as_str().unwrap(), admin["data"]["authToken"].as_str().unwrap());
        let user = json!({"username": "alice", "password": password("alice"), "name": "alice",
            "email": "alice@example.com", "verified": true, "roles": ["user"]});
        assert_eq!(post("/api/v1/users.create", user, Some(admin)).await.0, StatusCode::OK);
        let (_, me) = post(LOGIN, json!({"user": "alice", "password": password("alice")}), None).await;
        let me = (me["data"]["userId"].as_str().unwrap(), me["data"]["authToken"].as_str().unwrap());
        assert_eq!(post(ENABLE, json!({}), Some(me)).await.0, StatusCode::OK);
        let (status, _) = post(LOGIN, json!({"user": "alice", "password": password("alice")}), None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    });
    server.stop();
    let log = server.log();
    assert!(log.contains("e-mail delivery failed"), "{log}");
    assert!(log.contains("e-mail 2FA: codes are sent through smtp://mailer:***@127.0.0.1"), "{log}");
    assert!(!log.contains("hunter2"), "the SMTP password stays out of the log: {log}");
    assert!(!log.contains("alice@example.com"), "the address stays out of the log: {log}");
}
