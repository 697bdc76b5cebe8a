//! The wire log: every request the integration tests send to the emulator, one JSON object a
//! line, for `scripts/wire-check.py` to validate against botocore's service models.
//!
//! Each test process appends to `<dir>/<pid>.ndjson`, where `<dir>` is `$STACKCTL_WIRE_LOG`
//! or `wire-log` under cargo's integration-test temporary directory. A line holds the test's
//! name, the method, the request target (path and query), the headers except credentials, the
//! SigV4 credential scope (region and service, without the access key id) and the body; S3
//! bodies are left out (object data, and the check covers only S3's URI and query members).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::fault_proxy::{Record, dechunk};

/// The environment variable naming the directory of the wire log.
pub const DIR_VAR: &str = "STACKCTL_WIRE_LOG";

/// Headers never written: they carry credentials or signatures.
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-amz-security-token", "cookie"];

/// One writer for the whole process, so lines from parallel tests never interleave.
static WRITE: Mutex<()> = Mutex::new(());

/// The directory the wire log is written to.
pub fn dir() -> PathBuf {
    std::env::var_os(DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wire-log"))
}

/// A [`Record`] hook that appends each request to this process's wire log, tagged with `test`.
pub fn recorder(test: String) -> Record {
    let dir = dir();
    fs_err::create_dir_all(&dir).expect("the wire log directory can be created");
    let path = dir.join(format!("{}.ndjson", std::process::id()));
    Arc::new(move |request: &[u8]| {
        let Some(line) = entry(&test, request) else {
            return;
        };
        let _guard = WRITE.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("the wire log can be opened");
        writeln!(file, "{line}").expect("the wire log can be written");
    })
}

/// The wire-log line for one raw HTTP/1.1 request, or `None` if it is not one.
pub fn entry(test: &str, request: &[u8]) -> Option<String> {
    let split = request.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&request[..split]);
    let mut lines = head.split("\r\n");
    let mut start = lines.next()?.split(' ');
    let (method, target) = (start.next()?, start.next()?);
    let mut headers = serde_json::Map::new();
    let mut scope = serde_json::Value::Null;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "authorization" {
            scope = credential_scope(value);
        }
        chunked |= name == "transfer-encoding" && value.contains("chunked");
        if !SECRET_HEADERS.contains(&name.as_str()) {
            headers.insert(name, value.into());
        }
    }
    let raw = &request[split + 4..];
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    let mut line = serde_json::json!({
        "test": test,
        "method": method,
        "target": target,
        "headers": headers,
        "scope": scope,
        "body_len": body.len(),
    });
    if scope.get("service").and_then(|s| s.as_str()) != Some("s3") {
        line["body"] = String::from_utf8_lossy(&body).into_owned().into();
    }
    Some(line.to_string())
}

/// Region and service of a SigV4 `Authorization` header's credential scope
/// (`Credential=<key id>/<date>/<region>/<service>/aws4_request`); the key id is dropped.
fn credential_scope(authorization: &str) -> serde_json::Value {
    let credential = authorization
        .split([' ', ','])
        .find_map(|part| part.trim().strip_prefix("Credential="));
    match credential
        .map(|c| c.split('/').collect::<Vec<_>>())
        .as_deref()
    {
        Some([_, _, region, service, "aws4_request"]) => {
            serde_json::json!({ "region": region, "service": service })
        }
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    use super::super::fault_proxy::FaultProxy;
    use super::entry;

    const SIGNED: &str = "authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/fsx/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd\r\nx-amz-security-token: SECRETTOKEN\r\n";

    #[test]
    fn a_line_keeps_the_scope_and_body_and_drops_every_credential() {
        let request = format!(
            "POST / HTTP/1.1\r\nhost: 127.0.0.1:1\r\nx-amz-target: AWSSimbaAPIService_v20180301.DescribeFileSystems\r\n{SIGNED}content-length: 2\r\n\r\n{{}}"
        );
        let line = entry("t::x", request.as_bytes()).unwrap();
        assert!(!line.contains("AKIDEXAMPLE"), "{line}");
        assert!(!line.contains("Signature"), "{line}");
        assert!(!line.contains("SECRETTOKEN"), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["test"], "t::x");
        assert_eq!(value["method"], "POST");
        assert_eq!(value["target"], "/");
        assert_eq!(
            value["scope"],
            serde_json::json!({"region": "us-east-1", "service": "fsx"})
        );
        assert_eq!(
            value["headers"]["x-amz-target"],
            "AWSSimbaAPIService_v20180301.DescribeFileSystems"
        );
        assert_eq!(value["body"], "{}");
    }

    #[test]
    fn s3_bodies_are_left_out() {
        let request = "PUT /b/k?x-id=PutObject HTTP/1.1\r\nauthorization: AWS4-HMAC-SHA256 Credential=A/20261201/us-east-1/s3/aws4_request, Signature=x\r\ncontent-length: 4\r\n\r\nDATA";
        let value: serde_json::Value =
            serde_json::from_str(&entry("t", request.as_bytes()).unwrap()).unwrap();
        assert_eq!(value["scope"]["service"], "s3");
        assert_eq!(value["body_len"], 4);
        assert!(value.get("body").is_none(), "{value}");
    }

    /// A chunked request goes through the recording proxy whole, is recorded once with its body
    /// de-chunked, and the connection stays usable for the next request.
    #[test]
    fn the_recording_proxy_forwards_and_records_chunked_requests() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = upstream.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream_seen = seen.clone();
        std::thread::spawn(move || {
            for conn in upstream.incoming() {
                let mut conn = conn.unwrap();
                let request = super::super::fault_proxy::read_request(&mut conn).unwrap();
                upstream_seen.lock().unwrap().push(request);
                conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .unwrap();
            }
        });
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let sink = recorded.clone();
        let proxy = FaultProxy::recording(
            address,
            Arc::new(move |r: &[u8]| sink.lock().unwrap().push(entry("t", r).unwrap())),
        );
        let body = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
        let request = format!(
            "POST / HTTP/1.1\r\nhost: x\r\n{SIGNED}transfer-encoding: chunked\r\n\r\n{body}"
        );
        // Two requests on one connection: the second is read where the first one ended.
        let mut conn = TcpStream::connect(proxy.endpoint.trim_start_matches("http://")).unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        for _ in 0..2 {
            // In pieces, as a streaming client sends it: the head alone says nothing of the end.
            let (head, chunks) = request.split_at(request.find("\r\n\r\n").unwrap() + 4);
            for piece in [head, &chunks[..10], &chunks[10..]] {
                conn.write_all(piece.as_bytes()).unwrap();
                conn.flush().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let mut answer = Vec::new();
            let mut byte = [0u8; 1];
            while !answer.ends_with(b"\r\n\r\nok") {
                assert_eq!(conn.read(&mut byte).unwrap(), 1, "the proxy closed early");
                answer.push(byte[0]);
            }
            assert!(answer.starts_with(b"HTTP/1.1 200 OK"));
        }
        let recorded = recorded.lock().unwrap();
        assert_eq!(recorded.len(), 2, "{recorded:?}");
        let value: serde_json::Value = serde_json::from_str(&recorded[0]).unwrap();
        assert_eq!(value["body"], "hello world");
        let seen = seen.lock().unwrap();
        assert!(
            String::from_utf8_lossy(&seen[0]).ends_with(body),
            "{:?}",
            String::from_utf8_lossy(&seen[0])
        );
    }
}
