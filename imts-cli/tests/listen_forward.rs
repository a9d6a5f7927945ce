//! `imts listen --forward-to`: each verified, first-seen notification reaches the developer's
//! app byte for byte; the app's failure is IMTS's 500, and the delivery IMTS repeats is
//! forwarded again.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use common::{answer, send, start, url_in, SECRET};

/// An app that answers each request with the next status of `statuses` and hands over the
/// body it received.
fn app(statuses: Vec<u16>) -> (String, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (bodies, received) = mpsc::channel();
    std::thread::spawn(move || {
        for status in statuses {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap();
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = bodies.send(body);
            let answer =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
        }
    });
    (url, received)
}

/// POSTs `body` over a plain socket; the status.
fn post(url: &str, body: &str) -> u16 {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "POST /{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn forwarded_bytes_are_the_bytes_received() {
    let (app_url, bodies) = app(vec![200, 500, 200]);
    let (_listen, lines) = start(
        &[
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--forward-to",
            &app_url,
        ],
        &["accepting notifications"],
    );
    let hook = format!("{}/imts", url_in(&lines[0]));
    // Spacing and key order the SDK would not produce, signed over its fields.
    let fields = r#" "type" : "status_update", "notification_id":"n-fwd-1",  "transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"process","updated_at":"2026-12-02T10:00:00.000000Z""#;
    let signer = imts::protocol::Signer::new(imts::AgentSecret::new(SECRET).unwrap());
    let sig = imts_core::signature::sign_json(format!("{{{fields}}}").as_bytes(), &signer).unwrap();
    let exact = format!("{{{fields}, \"pg_sig\" : \"{sig}\" }}\n");
    assert_eq!(post(&hook, &exact), 200);
    let received = bodies.recv().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&received),
        exact,
        "forwarded byte for byte"
    );

    // The app fails: IMTS gets 500; the repeated delivery is forwarded again, byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("second.json");
    std::fs::write(
        &second,
        String::from_utf8(received.clone())
            .unwrap()
            .replace("n-fwd-1", "n-fwd-2"),
    )
    .unwrap();
    let failed = send(&hook, &second, SECRET);
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    assert_eq!(answer(&failed)["status"], 500);
    let once = bodies.recv().unwrap();
    let again = send(&hook, &second, SECRET);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let twice = bodies.recv().unwrap();
    assert_eq!(once, twice, "the same delivery, the same bytes");
    assert!(String::from_utf8_lossy(&twice).contains("n-fwd-2"));
}

#[test]
fn imts_send_keeps_amounts_as_written() {
    let (app_url, bodies) = app(vec![200]);
    let (_listen, lines) = start(
        &[
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--forward-to",
            &app_url,
        ],
        &["accepting notifications"],
    );
    let hook = format!("{}/imts", url_in(&lines[0]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("received.json");
    std::fs::write(&file, r#"{"type":"transfer_received","notification_id":"n-amount-1","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","destination_type":"phone","destination_identifier":"********4567","amount_target":2435.00,"currency_target":"UZS","created_at":"2026-12-02T10:00:00.000000Z"}"#).unwrap();
    let sent = send(&hook, &file, SECRET);
    assert_eq!(sent.status.code(), Some(0), "{sent:?}");
    let received = String::from_utf8(bodies.recv().unwrap()).unwrap();
    assert!(
        received.contains(r#""amount_target":2435.00"#),
        "{received}"
    );
}
