//! Error answers the SDK cannot classify, through the binary: a tiny std::net server stands in
//! for the endpoint and gives one canned answer to every request (the emulator always answers
//! with a code, so it cannot show these).

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::deploy_up::stackctl_aws;
use crate::support::fault_proxy::read_request;

/// Answers every request with `answer` (a whole HTTP/1.1 response) and closes the connection.
struct Canned {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

impl Canned {
    fn start(status: &str, headers: &[(&str, &str)], body: &str) -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let mut answer = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            answer.push_str(&format!("{name}: {value}\r\n"));
        }
        answer.push_str("\r\n");
        answer.push_str(body);
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                if read_request(&mut conn).is_some() {
                    count.fetch_add(1, Ordering::Relaxed);
                    let _ = conn.write_all(answer.as_bytes());
                }
            }
        });
        Canned { endpoint, requests }
    }
}

fn status(server: &Canned) -> crate::support::Output {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl_aws(
        None,
        dir.path(),
        &["--endpoint-url", &server.endpoint, "status"],
    );
    assert!(
        server.requests.load(Ordering::Relaxed) > 0,
        "no request reached the server"
    );
    out
}

#[test]
fn a_service_error_shows_status_code_message_and_request_id() {
    // The AWS Query error shape of the CloudFormation API reference ("Common Errors":
    // AccessDenied, HTTP 400), with the request id header AWS sends on every answer.
    let body = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: cloudformation:DescribeStacks</Message></Error><RequestId>6c1b8ad0-req</RequestId></ErrorResponse>"#;
    let server = Canned::start(
        "400 Bad Request",
        &[
            ("content-type", "text/xml"),
            ("x-amzn-RequestId", "6c1b8ad0-req"),
        ],
        body,
    );
    let out = status(&server);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "DescribeStacks failed: AccessDenied: User: arn:aws:iam::123456789012:user/dev is not authorized to perform: cloudformation:DescribeStacks (HTTP 400, request id 6c1b8ad0-req)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn an_answer_without_a_code_shows_status_request_id_and_the_start_of_the_body() {
    // An AWS-looking answer (request id header) whose body has no error code: before, this
    // printed `DescribeStacks failed: Unknown:` and nothing else.
    let body = format!(
        "<ErrorResponse><Error><Message>the subnet subnet-0bad does not exist</Message></Error>{}</ErrorResponse>",
        "x".repeat(1000)
    );
    let server = Canned::start(
        "400 Bad Request",
        &[("content-type", "text/xml"), ("x-amzn-RequestId", "req-9")],
        &body,
    );
    let out = status(&server);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "DescribeStacks failed: the answer has no AWS error code (HTTP 400, text/xml, request id req-9); it begins: <ErrorResponse><Error><Message>the subnet subnet-0bad does not exist"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Unknown:"), "{}", out.stderr);
    // Bounded: 200 characters of the body, then `...`.
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("it begins:"))
        .unwrap();
    let shown = line.split("it begins: ").nth(1).unwrap();
    assert_eq!(shown.chars().count(), 200 + 3, "{shown}");
    assert!(shown.ends_with("x..."), "{shown}");
}

#[test]
fn an_endpoint_that_is_not_aws_exits_4_and_says_so() {
    let server = Canned::start(
        "404 Not Found",
        &[("content-type", "text/html")],
        "<html><body><h1>Not Found</h1></body></html>",
    );
    let out = status(&server);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the endpoint at {} answered HTTP 404 with text/html; it does not look like an AWS API: check --endpoint-url",
            server.endpoint
        )),
        "{}",
        out.stderr
    );
}
