//! A small HTTP proxy between stackctl and the emulator that answers a share of requests with
//! throttling errors and 500s, and drops connections (before forwarding, and after forwarding
//! so the caller never sees the answer to a request that took effect). With no faults and a
//! [`Record`] hook it is the emulator's recording pass-through (see `wire_log`).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// Counts of what the proxy did.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub forwarded: AtomicUsize,
    pub throttled: AtomicUsize,
    pub server_errors: AtomicUsize,
    pub dropped_before: AtomicUsize,
    pub dropped_after: AtomicUsize,
}

/// Rewrites the body of an upstream answer, given the request's text.
pub type Rewrite = Arc<dyn Fn(&str, String) -> String + Send + Sync>;

/// Sees every request that is forwarded upstream (head and body, as sent).
pub type Record = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    pub counts: Arc<FaultCounts>,
    /// Every request forwarded upstream, as sent (head and body).
    pub captured: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Proxies to `upstream` (`127.0.0.1:port`); every `every`-th request gets a fault, the
    /// fault kind rotating through throttling, 500, drop-before and drop-after.
    pub fn start(upstream: String, every: usize) -> FaultProxy {
        Self::start_with(upstream, every, None)
    }

    /// Like [`Self::start`], with answers passed through `rewrite`.
    pub fn start_with(upstream: String, every: usize, rewrite: Option<Rewrite>) -> FaultProxy {
        Self::spawn(upstream, every, rewrite, None)
    }

    /// A pass-through to `upstream` (no faults) that hands every request to `record`.
    pub fn recording(upstream: String, record: Record) -> FaultProxy {
        Self::spawn(upstream, 0, None, Some(record))
    }

    fn spawn(
        upstream: String,
        every: usize,
        rewrite: Option<Rewrite>,
        record: Option<Record>,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(FaultCounts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let seq = Arc::new(AtomicUsize::new(0));
        let captured = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, s, cap) = (counts.clone(), stop.clone(), captured.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (upstream, c, seq, cap) =
                    (upstream.clone(), c.clone(), seq.clone(), cap.clone());
                let (rewrite, record) = (rewrite.clone(), record.clone());
                thread::spawn(move || {
                    let hooks = Hooks {
                        rewrite: rewrite.as_ref(),
                        record: record.as_ref(),
                    };
                    serve(conn, &upstream, &c, &seq, every, &cap, hooks);
                });
            }
        });
        FaultProxy {
            endpoint,
            counts,
            captured,
            stop,
        }
    }

    /// Total faults injected.
    pub fn faults(&self) -> usize {
        let c = &self.counts;
        c.throttled.load(Ordering::Relaxed)
            + c.server_errors.load(Ordering::Relaxed)
            + c.dropped_before.load(Ordering::Relaxed)
            + c.dropped_after.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

/// Reads one HTTP/1.1 request: headers and a Content-Length or chunked body, kept as sent.
pub fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = conn.read(&mut byte).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    if headers
        .lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"))
    {
        while chunked_end(&buf[header_end..]).is_none() {
            let n = conn.read(&mut byte).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&byte[..n]);
        }
        return Some(buf);
    }
    let length: usize = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = conn.read(&mut byte).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    Some(buf)
}

/// Where a complete chunked body (RFC 9112 section 7.1) ends in `body`, or `None` if more is
/// to come. Returns the length of the body with its last chunk and trailer.
pub fn chunked_end(body: &[u8]) -> Option<usize> {
    chunks(body).map(|(end, _)| end)
}

/// The data of a complete chunked body, without the chunk framing.
pub fn dechunk(body: &[u8]) -> Option<Vec<u8>> {
    chunks(body).map(|(_, data)| data)
}

fn chunks(body: &[u8]) -> Option<(usize, Vec<u8>)> {
    let line_end = |from: usize| {
        body.get(from..)?
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    };
    let (mut pos, mut data) = (0, Vec::new());
    loop {
        let end = line_end(pos)?;
        let size_text = String::from_utf8_lossy(&body[pos..end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        pos = end + 2;
        if size == 0 {
            // Trailer fields, then an empty line.
            loop {
                let end = line_end(pos)?;
                let empty = end == pos;
                pos = end + 2;
                if empty {
                    return Some((pos, data));
                }
            }
        }
        data.extend_from_slice(body.get(pos..pos + size)?);
        pos += size + 2;
        if body.len() < pos {
            return None;
        }
    }
}

/// A throttling answer in the protocol the request speaks.
fn throttle_response(request: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let (status, content_type, body) = if text.contains("x-amz-json")
        || text.contains("application/json")
    {
        (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
        )
    } else if text.contains("Version=2016-11-15") {
        (
            "503 Service Unavailable",
            "text/xml",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>".to_owned(),
        )
    } else {
        (
            "400 Bad Request",
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>".to_owned(),
        )
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn forward(request: &[u8], upstream: &str) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).ok()?;
    // One request per upstream connection, so the answer ends at EOF.
    let text = String::from_utf8_lossy(request);
    let head_end = text.find("\r\n\r\n")? + 4;
    let mut head: String = text[..head_end - 2]
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    head.push_str("connection: close\r\n\r\n");
    up.write_all(head.as_bytes()).ok()?;
    up.write_all(&request[head_end..]).ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).ok()?;
    Some(response)
}

/// What a proxy does to the requests it forwards, besides forwarding them.
#[derive(Clone, Copy)]
struct Hooks<'a> {
    rewrite: Option<&'a Rewrite>,
    record: Option<&'a Record>,
}

fn serve(
    mut conn: TcpStream,
    upstream: &str,
    counts: &FaultCounts,
    seq: &AtomicUsize,
    every: usize,
    captured: &std::sync::Mutex<Vec<Vec<u8>>>,
    hooks: Hooks<'_>,
) {
    while let Some(request) = read_request(&mut conn) {
        let n = seq.fetch_add(1, Ordering::Relaxed) + 1;
        let fault = if every > 0 && n.is_multiple_of(every) {
            Some((n / every) % 4)
        } else {
            None
        };
        match fault {
            Some(0) => {
                counts.throttled.fetch_add(1, Ordering::Relaxed);
                if conn.write_all(&throttle_response(&request)).is_err() {
                    return;
                }
            }
            Some(1) => {
                counts.server_errors.fetch_add(1, Ordering::Relaxed);
                let body = "internal error";
                let answer = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if conn.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            Some(2) => {
                counts.dropped_before.fetch_add(1, Ordering::Relaxed);
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Some(_) => {
                // The request takes effect; its answer is lost.
                if let Some(record) = hooks.record {
                    record(&request);
                }
                let _ = forward(&request, upstream);
                counts.dropped_after.fetch_add(1, Ordering::Relaxed);
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            None => {
                captured.lock().unwrap().push(request.clone());
                if let Some(record) = hooks.record {
                    record(&request);
                }
                let Some(mut response) = forward(&request, upstream) else {
                    return;
                };
                if let Some(rewrite) = hooks.rewrite {
                    response = rewrite_body(&request, response, rewrite);
                }
                counts.forwarded.fetch_add(1, Ordering::Relaxed);
                if conn.write_all(&response).is_err() {
                    return;
                }
                // The upstream answer may say `connection: close`; honour it.
                if String::from_utf8_lossy(&response[..response.len().min(2048)])
                    .to_ascii_lowercase()
                    .contains("connection: close")
                {
                    return;
                }
            }
        }
    }
}

/// Applies `rewrite` to a response body and fixes its content-length.
fn rewrite_body(request: &[u8], response: Vec<u8>, rewrite: &Rewrite) -> Vec<u8> {
    let text = String::from_utf8_lossy(&response).into_owned();
    let Some(split) = text.find("\r\n\r\n") else {
        return response;
    };
    let body = rewrite(
        &String::from_utf8_lossy(request),
        text[split + 4..].to_owned(),
    );
    let head: String = text[..split]
        .lines()
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("content-length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    format!("{head}\r\n\r\n{body}").into_bytes()
}
