//! Ctrl-C while `up` waits detaches: exit 130, and the message says the operation goes on in
//! CloudFormation and how to attach again. The emulator finishes every operation at once, so a
//! tiny fake CloudFormation endpoint keeps a stack UPDATE_IN_PROGRESS forever (and answers
//! the zone preflight's DescribeAvailabilityZones).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::fault_proxy::read_request;

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

fn answer(action_body: &str) -> String {
    let body = if action_body.contains("Action=DescribeAvailabilityZones") {
        // `up`'s zone preflight; shaped like the EC2 API reference's answer.
        let zones: String = ["a", "b", "c"]
            .iter()
            .map(|z| {
                format!(
                    "<item><zoneName>us-east-1{z}</zoneName><zoneState>available</zoneState>\
                     <zoneType>availability-zone</zoneType><regionName>us-east-1</regionName></item>"
                )
            })
            .collect();
        format!(
            "<DescribeAvailabilityZonesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
             <requestId>1</requestId><availabilityZoneInfo>{zones}</availabilityZoneInfo>\
             </DescribeAvailabilityZonesResponse>"
        )
    } else if action_body.contains("Action=DescribeStacks") {
        format!(
            "<DescribeStacksResponse xmlns=\"{NS}\"><DescribeStacksResult><Stacks><member>\
             <StackName>mask-rcnn</StackName>\
             <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/mask-rcnn/1</StackId>\
             <StackStatus>UPDATE_IN_PROGRESS</StackStatus>\
             <CreationTime>2026-01-01T00:00:00Z</CreationTime>\
             </member></Stacks></DescribeStacksResult>\
             <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"
        )
    } else {
        format!(
            "<DescribeStackEventsResponse xmlns=\"{NS}\"><DescribeStackEventsResult><StackEvents/>\
             </DescribeStackEventsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
             </DescribeStackEventsResponse>"
        )
    };
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn ctrl_c_while_waiting_detaches_with_exit_130() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                while let Some(request) = read_request(&mut conn) {
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if conn.write_all(answer(&text).as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["up", "--yes", "--endpoint-url", &endpoint])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("STACKCTL_STACK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stackctl ended early:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains("waiting for it to finish") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    seen.push_str(&rest);
    assert_eq!(out.status.code(), Some(130), "{seen}");
    assert!(
        seen.contains("CloudFormation continues the operation"),
        "{seen}"
    );
    assert!(seen.contains("re-attach:"), "{seen}");
    assert!(seen.contains("stackctl --endpoint-url"), "{seen}");
}

/// A fake CloudFormation (and EC2 zones) endpoint whose stack `mask-rcnn` is UPDATE_COMPLETE
/// with another template, so `up` prepares a change set; the change set stays CREATE_PENDING.
/// Every request's Action goes to `seen`.
fn preparing_endpoint(seen: std::sync::mpsc::Sender<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                while let Some(request) = read_request(&mut conn) {
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let action = text
                        .split("Action=")
                        .nth(1)
                        .and_then(|a| a.split('&').next())
                        .unwrap_or_default()
                        .to_owned();
                    let _ = seen.send(action.clone());
                    let wrap = |op: &str, inner: &str| {
                        format!(
                            "<{op}Response xmlns=\"{NS}\"><{op}Result>{inner}</{op}Result>\
                             <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{op}Response>"
                        )
                    };
                    let body = match action.as_str() {
                        "DescribeStacks" => wrap(
                            "DescribeStacks",
                            "<Stacks><member><StackName>mask-rcnn</StackName>\
                             <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/mask-rcnn/1</StackId>\
                             <StackStatus>UPDATE_COMPLETE</StackStatus>\
                             <CreationTime>2026-01-01T00:00:00Z</CreationTime>\
                             <Tags><member><Key>stackctl:managed-by</Key><Value>stackctl</Value></member></Tags>\
                             </member></Stacks>",
                        ),
                        "GetTemplate" => wrap(
                            "GetTemplate",
                            "<TemplateBody>{\"Resources\":{}}</TemplateBody>",
                        ),
                        "CreateChangeSet" => wrap(
                            "CreateChangeSet",
                            "<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/x/1</Id>\
                             <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/mask-rcnn/1</StackId>",
                        ),
                        "DescribeChangeSet" => wrap(
                            "DescribeChangeSet",
                            "<Status>CREATE_PENDING</Status><ExecutionStatus>UNAVAILABLE</ExecutionStatus>\
                             <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/mask-rcnn/1</StackId>",
                        ),
                        _ => {
                            // Anything else (the zone preflight) as the first test's endpoint.
                            let full = answer(&text);
                            if conn.write_all(full.as_bytes()).is_err() {
                                return;
                            }
                            continue;
                        }
                    };
                    let full = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(full.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    endpoint
}

/// Ctrl-C while `up` waits for its change set to be ready (before ExecuteChangeSet) says that
/// nothing was changed, not that CloudFormation continues an operation; exit 130. The emulator
/// prepares change sets at once, so a fake endpoint keeps it CREATE_PENDING.
#[test]
fn ctrl_c_before_the_change_set_runs_says_nothing_was_changed() {
    let (tx, rx) = std::sync::mpsc::channel();
    let endpoint = preparing_endpoint(tx);
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["up", "--yes", "--endpoint-url", &endpoint])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("STACKCTL_STACK")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the change set is being polled.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut actions = Vec::new();
    while !actions.iter().any(|a| a == "DescribeChangeSet") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(a) => actions.push(a),
            Err(_) => panic!("no DescribeChangeSet; saw {actions:?}"),
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    actions.extend(rx.try_iter());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        !actions.iter().any(|a| a == "ExecuteChangeSet"),
        "{actions:?}"
    );
    assert!(
        stderr.contains("interrupted before `up` changed anything"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("CloudFormation continues the operation"),
        "{stderr}"
    );
    // Where it acted was said first, with the account from the stack's ARN (no STS call).
    assert!(
        stderr.contains(&format!(
            "up: account 123456789012, region us-east-1, endpoint {endpoint}, stack `mask-rcnn`"
        )),
        "{stderr}"
    );
    assert!(
        !actions.iter().any(|a| a == "GetCallerIdentity"),
        "{actions:?}"
    );
}

/// Ctrl-C while the SDK retries a connection that fails (nothing listens) says nothing was
/// changed, exit 130 (before, the signal killed the process during connect).
#[test]
fn ctrl_c_while_retrying_a_connection_says_nothing_was_changed() {
    // A port that refuses connections: bind, then drop.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["up", "--yes", "--endpoint-url", &endpoint])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("STACKCTL_STACK")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The SDK backs off up to 10 attempts (seconds in all); the signal comes among them.
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted before `up` changed anything"),
        "{stderr}"
    );
}
