//! Every error code, in the contract's order, and hostile or malformed requests.

mod common;

use std::time::Duration;

use common::*;
use imts_core::models::*;
use imts_core::signature::CanonicalParams;
use imts_crypto::Signer;
use imts_sandbox::SandboxConfig;

async fn client(partner: &Partner) -> String {
    let op = CreatePerson::new(
        person("Ivanova"),
        "KAZ".parse().unwrap(),
        "77011234567".parse().unwrap(),
    );
    partner.ok(&op).await.client_uuid.to_string()
}

/// Signs a hand-written JSON body with agent-1's secret and appends pg_sig.
fn signed(body: &str) -> Vec<u8> {
    let sig = CanonicalParams::from_json(body.as_bytes())
        .unwrap()
        .sign(&Signer::new(secret(SECRET_1)));
    let trimmed = body.trim_end().trim_end_matches('}');
    let sep = if trimmed.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    format!("{trimmed}{sep}\"pg_sig\":\"{sig}\"}}").into_bytes()
}

#[tokio::test]
async fn unauthorized_signature_validation_not_found_and_state() {
    let sandbox = start(SandboxConfig::default()).await;
    let partner = Partner::login(&sandbox, 0).await;
    let token = partner.token.clone().unwrap();
    let fees = r#"{"originator_type":"person","target_country":"UZB","amount_source":100.00,"currency_source":"KZT","currency_target":"UZS"}"#;

    // 401: no token, unknown token; checked before the signature.
    let a = partner
        .post_raw("fees", None, fees.as_bytes())
        .await
        .unwrap();
    assert_eq!((a.status, a.code()), (401, "unauthorized".into()));
    let a = partner
        .post_raw("fees", Some("nope"), fees.as_bytes())
        .await
        .unwrap();
    assert_eq!((a.status, a.code()), (401, "unauthorized".into()));

    // 400: missing and wrong pg_sig; the expected message is shown with the secret masked.
    let a = partner
        .post_raw("fees", Some(&token), fees.as_bytes())
        .await
        .unwrap();
    assert_eq!((a.status, a.code()), (400, "invalid_signature".into()));
    let forged = fees.replace('}', &format!(",\"pg_sig\":\"{}\"}}", "0".repeat(64)));
    let a = partner
        .post_raw("fees", Some(&token), forged.as_bytes())
        .await
        .unwrap();
    assert_eq!((a.status, a.code()), (400, "invalid_signature".into()));
    let description = a.json()["error_description"].as_str().unwrap().to_owned();
    assert!(
        description.contains("100.00;KZT;UZS;person;UZB;***"),
        "{description}"
    );
    assert!(!description.contains(SECRET_1));

    // 422: each field rule, named.
    for (body, field) in [
        (
            r#"{"originator_type":"person","target_country":"UZB","amount_source":100.00001,"currency_source":"KZT","currency_target":"UZS"}"#,
            "amount_source",
        ),
        (
            r#"{"originator_type":"person","target_country":"UZB","amount_source":123456789012.5,"currency_source":"KZT","currency_target":"UZS"}"#,
            "amount_source",
        ),
        (
            r#"{"originator_type":"person","target_country":"UZB","amount_source":"100.00","currency_source":"KZT","currency_target":"UZS"}"#,
            "amount_source",
        ),
        (
            r#"{"originator_type":"person","target_country":"UZB","amount_source":100.00,"currency_source":"kzt","currency_target":"UZS"}"#,
            "currency_source",
        ),
        (
            r#"{"originator_type":"person","target_country":"UZ","amount_source":100.00,"currency_source":"KZT","currency_target":"UZS"}"#,
            "target_country",
        ),
        (
            r#"{"originator_type":"person","target_country":"UZB","currency_source":"KZT","currency_target":"UZS"}"#,
            "amount_source",
        ),
        (
            r#"{"originator_type":"person","target_country":"UZB","amount_source":100.00,"currency_source":"KZT","currency_target":"XXX"}"#,
            "currency_target",
        ),
    ] {
        let a = partner
            .post_raw("fees", Some(&token), &signed(body))
            .await
            .unwrap();
        assert_eq!(
            (a.status, a.code()),
            (422, "validation_error".into()),
            "{body}"
        );
        assert!(
            a.json()["errors"][field].is_array(),
            "{field} in {}",
            String::from_utf8_lossy(&a.body)
        );
    }

    // 404: unknown transfer, unknown client, unknown path.
    let unknown = "11111111-2222-4333-8444-555555555555";
    let a = partner
        .call(&ConfirmRequest::new(unknown.parse().unwrap()))
        .await;
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    let a = partner
        .call(&create_transfer(unknown, "ORD-E-0", None))
        .await;
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    let a = partner
        .post_raw("does/not/exist", Some(&token), b"{}")
        .await
        .unwrap();
    assert_eq!((a.status, a.code()), (404, "not_found".into()));

    // 409: a second confirm; a reused order_id with other fields.
    let uuid = client(&partner).await;
    let t = partner.ok(&create_transfer(&uuid, "ORD-E-1", None)).await;
    partner
        .ok(&ConfirmRequest::new(t.transfer_id.clone()))
        .await;
    let a = partner
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .await;
    assert_eq!((a.status, a.code()), (409, "invalid_status".into()));
    let a = partner
        .call(&PayoutConfirmRequest::new(t.transfer_id.clone()))
        .await;
    assert_eq!((a.status, a.code()), (409, "invalid_status".into()));
    let same = partner.ok(&create_transfer(&uuid, "ORD-E-1", None)).await;
    assert_eq!(
        same.transfer_id, t.transfer_id,
        "the same create returns the same transfer"
    );
    let mut different = create_transfer(&uuid, "ORD-E-1", None);
    different.amount_source = "200.00".parse().unwrap();
    let a = partner.call(&different).await;
    assert_eq!((a.status, a.code()), (409, "duplicate_order_id".into()));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_and_refresh_tokens_rotate() {
    let sandbox = start(SandboxConfig {
        access_ttl: Duration::from_secs(60),
        ..SandboxConfig::default()
    })
    .await;
    let partner = Partner::login(&sandbox, 0).await;
    let status = StatusRequest::new(imts_core::values::Lookup::OrderId(
        "nothing".parse().unwrap(),
    ));
    assert_eq!(
        partner.call(&status).await.status,
        404,
        "authenticated, then not found"
    );
    sandbox.advance_clock(Duration::from_secs(61));
    let a = partner.call(&status).await;
    assert_eq!((a.status, a.code()), (401, "unauthorized".into()));

    let refresh = partner.refresh.clone().unwrap();
    let rotate = |token: String| {
        let url = partner.url("agent/auth");
        async move {
            send(
                http::Request::patch(url)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Vec::new())
                    .unwrap(),
            )
            .await
            .unwrap()
        }
    };
    let a = rotate(refresh.clone()).await;
    assert_eq!(a.status, 200);
    let fresh = a.json()["access_token"].as_str().unwrap().to_owned();
    let a = rotate(refresh).await;
    assert_eq!(
        (a.status, a.code()),
        (401, "unauthorized".into()),
        "a used refresh token stops working"
    );
    let mut renewed = partner;
    renewed.token = Some(fresh);
    assert_eq!(renewed.call(&status).await.status, 404);

    // The refresh token in the body works too.
    let next = Partner::login(&sandbox, 0).await;
    let body = serde_json::json!({"refresh_token": next.refresh.clone().unwrap()}).to_string();
    let a = send(
        http::Request::patch(next.url("agent/auth"))
            .body(body.into_bytes())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 200);

    // Wrong credentials.
    let a = next
        .post_raw(
            "agent/auth",
            None,
            br#"{"agent_id":"agent-1","agent_secret":"wrong"}"#,
        )
        .await
        .unwrap();
    assert_eq!((a.status, a.code()), (401, "unauthorized".into()));
    assert_eq!(sandbox.stats().refresh, 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn hostile_and_malformed_requests_get_clear_answers() {
    let sandbox = start(SandboxConfig::default()).await;
    let partner = Partner::login(&sandbox, 0).await;
    let token = partner.token.clone().unwrap();

    let big = vec![b' '; 1024 * 1024 + 10];
    let a = partner.post_raw("fees", Some(&token), &big).await.unwrap();
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["status"], "error");

    // An empty body has no pg_sig: the signature check (400) comes before validation.
    let a = partner.post_raw("fees", Some(&token), b"").await.unwrap();
    assert_eq!((a.status, a.code()), (400, "invalid_signature".into()));
    for body in [
        &b"{not json"[..],
        &[0xff, 0xfe, 0x00],
        b"[1,2,3]",
        b"\"string\"",
    ] {
        let a = partner.post_raw("fees", Some(&token), body).await.unwrap();
        assert_eq!(a.status, 422, "{:?}", String::from_utf8_lossy(body));
        assert_eq!(a.code(), "validation_error");
    }
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let a = partner
        .post_raw("fees", Some(&token), deep.as_bytes())
        .await
        .unwrap();
    // No pg_sig: refused at the signature step (400), before any deep parsing.
    assert_eq!((a.status, a.code()), (400, "invalid_signature".into()));
    let huge_number = format!("{{\"amount_source\":1{}}}", "0".repeat(10_000));
    let a = partner
        .post_raw("fees", Some(&token), huge_number.as_bytes())
        .await
        .unwrap();
    assert!(a.status == 400 || a.status == 422, "{}", a.status);

    let a = send(
        http::Request::get(partner.url("fees"))
            .body(Vec::new())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 405);
    assert_eq!(a.json()["status"], "error");

    let stats = send(
        http::Request::get(format!("{}/sandbox/stats", sandbox.base_url()))
            .body(Vec::new())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(stats.status, 200);
    assert!(stats.json()["calls"]["fees"].as_u64().unwrap() >= 8);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_slow_client_does_not_hold_the_server() {
    use tokio::io::AsyncWriteExt;
    let sandbox = start(SandboxConfig {
        header_timeout: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .await;
    // Ten connections that send half a request line and stall.
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let mut stream = tokio::net::TcpStream::connect(sandbox.addr())
            .await
            .unwrap();
        stream
            .write_all(b"POST /v5/partner/transfer/fees HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stalled.push(stream);
    }
    // The server still answers others at once.
    let partner = Partner::login(&sandbox, 0).await;
    assert_eq!(
        partner
            .call(&StatusRequest::new(imts_core::values::Lookup::OrderId(
                "x".parse().unwrap()
            )))
            .await
            .status,
        404
    );
    // And closes the stalled ones after the header timeout.
    let mut buf = [0u8; 1];
    let stream = &mut stalled[0];
    let closed = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(stream, &mut buf),
    )
    .await;
    assert!(
        matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
        "the stalled connection was closed"
    );
    sandbox.shutdown().await;
}
