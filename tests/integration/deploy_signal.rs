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
    assert!(seen.contains("Re-run `stackctl up` to attach"), "{seen}");
}
