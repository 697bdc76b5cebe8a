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
