//! A small HTTP proxy between stackctl and the emulator that injects faults: throttling errors
//! (in the protocol the request speaks), 500s, connections dropped before forwarding (a reset:
//! the server never saw the request) and after forwarding (the server applied the request, the
//! caller never sees the answer). With no faults and a [`Record`] hook it is the emulator's
//! recording pass-through (see `wire_log`).
//!
//! Two schedules:
//!
//! - [`Schedule::Every`]: every n-th request, the kind rotating through the four (a fixed
//!   pattern, for tests that need one fault of each kind at a known place);
//! - [`Schedule::Random`]: each request independently gets a fault with probability `rate`, its
//!   kind drawn uniformly from the four, from a seeded PRNG (splitmix64) so a seed names one
//!   sequence of decisions. The decisions are drawn in the order requests arrive: stackctl sends
//!   one request at a time on most paths, so a seed replays the same faults on the same calls,
//!   up to polling loops whose length depends on timing.
//!
//!   The SDK retries an operation up to its max attempts (10, `src/aws.rs`). Independent faults
//!   at rate 0.4 make ten in a row on one operation a 0.4^10 ~ 1e-4 event per operation: over a
//!   suite of thousands of operations that is a failure now and then which proves nothing
//!   about stackctl (AWS does not fail one call ten times running). So the proxy caps the faults
//!   of one *operation* at `max_consecutive` in a row (default [`MAX_CONSECUTIVE_FAULTS`] = 5):
//!   an operation is recognised by the SDK's `amz-sdk-invocation-id` request header, which
//!   keeps its value across the retries of one operation; the attempt after the cap is
//!   forwarded untouched (counted in [`FaultCounts::capped`]). Every operation can therefore
//!   succeed within its attempt budget, and the faults still cost what they cost: retry
//!   tokens, backoff, and replies lost after the server applied a create.
//!
//!   On top of the random draws, chosen operations can be *pinned* to a fault on their first
//!   attempt (`amz-sdk-request: attempt=1`), e.g. the reply of every `CreateStack` lost, so a run
//!   exercises a path on every seed instead of on the seeds that happen to hit it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// The most faults one operation (one `amz-sdk-invocation-id`) gets in a row under
/// [`Schedule::Random`]: half of the SDK's 10 attempts.
pub const MAX_CONSECUTIVE_FAULTS: usize = 5;

/// Counts of what the proxy did.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub forwarded: AtomicUsize,
    pub throttled: AtomicUsize,
    pub server_errors: AtomicUsize,
    pub dropped_before: AtomicUsize,
    pub dropped_after: AtomicUsize,
    /// Requests forwarded untouched because their operation had had `max_consecutive` faults
    /// in a row (a fault was drawn for them).
    pub capped: AtomicUsize,
}

impl FaultCounts {
    /// `(kind, count)` of each fault kind, for messages and assertions.
    pub fn by_kind(&self) -> [(&'static str, usize); 4] {
        [
            ("throttled", self.throttled.load(Ordering::Relaxed)),
            ("500", self.server_errors.load(Ordering::Relaxed)),
            (
                "dropped before",
                self.dropped_before.load(Ordering::Relaxed),
            ),
            ("dropped after", self.dropped_after.load(Ordering::Relaxed)),
        ]
    }
}

/// When the proxy injects a fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// Never: a pass-through.
    Never,
    /// Every n-th request, the kind rotating through throttling, 500, drop-before, drop-after.
    Every(usize),
    /// Each request with probability `rate` (0.0..=1.0), the kind uniform, from a PRNG seeded
    /// with `seed`; at most `max_consecutive` faults in a row per operation.
    Random {
        rate: f64,
        seed: u64,
        max_consecutive: usize,
    },
}

/// What one request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttle,
    ServerError,
    /// The connection is closed before the request is forwarded.
    DropBefore,
    /// The request is forwarded (and takes effect), then the connection is closed.
    DropAfter,
}

impl Fault {
    const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::DropBefore,
        Fault::DropAfter,
    ];
}

/// One line of the proxy's trace: the request's sequence number, its operation, and the fault
/// it got (`None`: forwarded).
#[derive(Debug, Clone)]
pub struct TraceEntry {
    pub seq: usize,
    pub operation: String,
    pub fault: Option<Fault>,
}

/// splitmix64 (Steele, Lea, Flood 2014): small, fast, and good enough to draw faults.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Decides, request by request, which fault (if any) each one gets.
struct Decider {
    schedule: Schedule,
    /// Operations (as [`operation_of`] names them: an action or target by its last word, a
    /// REST call by `METHOD /path` prefix) whose first attempt gets this fault.
    pinned: Vec<(String, Fault)>,
    seq: AtomicUsize,
    state: Mutex<DeciderState>,
}

struct DeciderState {
    rng: SplitMix64,
    /// Faults in a row per `amz-sdk-invocation-id`.
    consecutive: HashMap<String, usize>,
}

impl Decider {
    fn new(schedule: Schedule, pinned: Vec<(String, Fault)>) -> Self {
        let seed = match schedule {
            Schedule::Random { seed, .. } => seed,
            _ => 0,
        };
        Decider {
            schedule,
            pinned,
            seq: AtomicUsize::new(0),
            state: Mutex::new(DeciderState {
                rng: SplitMix64::new(seed),
                consecutive: HashMap::new(),
            }),
        }
    }

    /// The request's sequence number and its fault.
    fn decide(&self, request: &[u8], counts: &FaultCounts) -> (usize, Option<Fault>) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        match self.schedule {
            Schedule::Never => (n, None),
            Schedule::Every(every) => {
                let fault =
                    (every > 0 && n.is_multiple_of(every)).then(|| Fault::ALL[(n / every) % 4]);
                (n, fault)
            }
            Schedule::Random {
                rate,
                max_consecutive,
                ..
            } => {
                let mut state = self.state.lock().unwrap();
                // Two draws per request whatever happens, so one request's outcome does not
                // shift the sequence of the next.
                let mut hit = state.rng.next_f64() < rate;
                let mut kind = Fault::ALL[(state.rng.next_u64() % 4) as usize];
                if let Some(pinned) = self.pinned_fault(request) {
                    (hit, kind) = (true, pinned);
                }
                let Some(invocation) = header(request, "amz-sdk-invocation-id") else {
                    return (n, hit.then_some(kind));
                };
                let in_a_row = state.consecutive.entry(invocation).or_insert(0);
                if !hit {
                    *in_a_row = 0;
                    (n, None)
                } else if *in_a_row >= max_consecutive {
                    *in_a_row = 0;
                    counts.capped.fetch_add(1, Ordering::Relaxed);
                    (n, None)
                } else {
                    *in_a_row += 1;
                    (n, Some(kind))
                }
            }
        }
    }
}

impl Decider {
    /// The pinned fault of a request, if it is the first attempt of a pinned operation.
    fn pinned_fault(&self, request: &[u8]) -> Option<Fault> {
        if self.pinned.is_empty() {
            return None;
        }
        let first = header(request, "amz-sdk-request")
            .is_some_and(|v| v.split(';').any(|p| p.trim() == "attempt=1"));
        if !first {
            return None;
        }
        let operation = operation_of(request);
        let last = operation.rsplit([':', '.', ' ']).next().unwrap_or_default();
        // An action or target by its name (`CreateStack`); a REST call by method and path
        // (`DELETE /2015-02-01/mount-targets`).
        self.pinned
            .iter()
            .find(|(name, _)| name == last || (name.contains(' ') && operation.contains(name)))
            .map(|(_, fault)| *fault)
    }
}

/// The value of header `name` (lower case) in a request.
fn header(request: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(request);
    let head = &text[..text.find("\r\n\r\n").unwrap_or(text.len())];
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// The SigV4 service of a request (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).
fn signing_service(request: &[u8]) -> Option<String> {
    let auth = header(request, "authorization")?;
    let scope = auth.split("Credential=").nth(1)?;
    scope.split('/').nth(3).map(str::to_owned)
}

/// A short name of the operation a request calls: `X-Amz-Target`, the query protocol's
/// `Action`, or the REST method and path.
pub fn operation_of(request: &[u8]) -> String {
    if let Some(target) = header(request, "x-amz-target") {
        return target;
    }
    let text = String::from_utf8_lossy(request);
    let line = text.lines().next().unwrap_or_default();
    let body = text.find("\r\n\r\n").map_or("", |i| &text[i + 4..]);
    let action = |s: &str| {
        s.split(['&', '?'])
            .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
    };
    if let Some(a) = action(body).or_else(|| action(line)) {
        let service = signing_service(request).unwrap_or_default();
        return format!("{service}:{a}");
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let service = signing_service(request).unwrap_or_default();
    format!(
        "{service}:{method} {}",
        path.split('?').next().unwrap_or("")
    )
}

/// Rewrites the body of an upstream answer, given the request's text. A returned text that
/// starts with `HTTP/1.1 ` replaces the whole answer (status line, headers and body), for
/// answering one operation with an error of the service's shape.
pub type Rewrite = Arc<dyn Fn(&str, String) -> String + Send + Sync>;

/// Sees every request that is forwarded upstream (head and body, as sent).
pub type Record = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    pub counts: Arc<FaultCounts>,
    /// Every request forwarded upstream with its answer delivered, as sent (head and body).
    pub captured: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Every request in arrival order: operation and fault.
    pub trace: Arc<Mutex<Vec<TraceEntry>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Proxies to `upstream` (`127.0.0.1:port`); every `every`-th request gets a fault, the
    /// fault kind rotating through throttling, 500, drop-before and drop-after (0: none).
    pub fn start(upstream: String, every: usize) -> FaultProxy {
        Self::start_with(upstream, every, None)
    }

    /// Like [`Self::start`], with answers passed through `rewrite`.
    pub fn start_with(upstream: String, every: usize, rewrite: Option<Rewrite>) -> FaultProxy {
        Self::spawn(upstream, Schedule::Every(every), rewrite, None)
    }

    /// Proxies to `upstream` with faults at `rate` (0.0..=1.0) drawn from `seed`, at most
    /// [`MAX_CONSECUTIVE_FAULTS`] in a row per operation (see the module documentation).
    pub fn random(upstream: String, rate: f64, seed: u64) -> FaultProxy {
        Self::random_pinned(upstream, rate, seed, &[])
    }

    /// Like [`Self::random`], and the first attempt of each operation named in `pinned`
    /// (`CreateStack`, `CreateTrainingJob`, ...) gets its fault whatever the draw.
    pub fn random_pinned(
        upstream: String,
        rate: f64,
        seed: u64,
        pinned: &[(&str, Fault)],
    ) -> FaultProxy {
        assert!(
            (0.0..=1.0).contains(&rate),
            "fault rate {rate} is not in 0..=1"
        );
        let schedule = Schedule::Random {
            rate,
            seed,
            max_consecutive: MAX_CONSECUTIVE_FAULTS,
        };
        let pinned = pinned.iter().map(|(n, f)| ((*n).to_owned(), *f)).collect();
        Self::start_full(upstream, schedule, pinned, None, None)
    }

    /// A pass-through to `upstream` (no faults) that hands every request to `record`.
    pub fn recording(upstream: String, record: Record) -> FaultProxy {
        Self::spawn(upstream, Schedule::Never, None, Some(record))
    }

    fn spawn(
        upstream: String,
        schedule: Schedule,
        rewrite: Option<Rewrite>,
        record: Option<Record>,
    ) -> FaultProxy {
        Self::start_full(upstream, schedule, Vec::new(), rewrite, record)
    }

    /// A proxy with any schedule, pinned faults and hooks.
    pub fn start_full(
        upstream: String,
        schedule: Schedule,
        pinned: Vec<(String, Fault)>,
        rewrite: Option<Rewrite>,
        record: Option<Record>,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(FaultCounts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let decider = Arc::new(Decider::new(schedule, pinned));
        let captured = Arc::new(Mutex::new(Vec::new()));
        let trace = Arc::new(Mutex::new(Vec::new()));
        let (c, s, cap, tr) = (
            counts.clone(),
            stop.clone(),
            captured.clone(),
            trace.clone(),
        );
        // Only a proxy that injects faults keeps a trace (a pass-through sees every request of
        // its test).
        let tracing = matches!(schedule, Schedule::Random { .. } | Schedule::Every(1..));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (upstream, c, decider, cap, tr) = (
                    upstream.clone(),
                    c.clone(),
                    decider.clone(),
                    cap.clone(),
                    tr.clone(),
                );
                let (rewrite, record) = (rewrite.clone(), record.clone());
                thread::spawn(move || {
                    let hooks = Hooks {
                        rewrite: rewrite.as_ref(),
                        record: record.as_ref(),
                        trace: tracing.then_some(&*tr),
                    };
                    serve(conn, &upstream, &c, &decider, &cap, hooks);
                });
            }
        });
        FaultProxy {
            endpoint,
            counts,
            captured,
            trace,
            stop,
        }
    }

    /// Total faults injected.
    pub fn faults(&self) -> usize {
        self.counts.by_kind().iter().map(|(_, n)| n).sum()
    }

    /// The last `n` lines of the trace, one request a line, for failure messages.
    pub fn trace_tail(&self, n: usize) -> String {
        let trace = self.trace.lock().unwrap();
        trace[trace.len().saturating_sub(n)..]
            .iter()
            .map(|t| match t.fault {
                Some(f) => format!("#{} {} -> {f:?}\n", t.seq, t.operation),
                None => format!("#{} {}\n", t.seq, t.operation),
            })
            .collect()
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

/// A throttling answer in the protocol the request speaks, as each service documents it.
fn throttle_response(request: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let service = signing_service(request).unwrap_or_default();
    let mut extra = String::new();
    let (status, content_type, body) = if header(request, "x-amz-target").is_some() {
        // awsJson1.0 / 1.1 (SageMaker, FSx, DataSync, CloudWatch Logs, ECR, ...).
        (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
        )
    } else if service == "s3" {
        // REST-XML; S3 answers 503 SlowDown.
        (
            "503 Slow Down",
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>x</RequestId></Error>".to_owned(),
        )
    } else if service == "elasticfilesystem" {
        // REST-JSON; the error code travels in x-amzn-ErrorType.
        extra.push_str("x-amzn-ErrorType: ThrottlingException\r\n");
        (
            "429 Too Many Requests",
            "application/json",
            r#"{"ErrorCode":"ThrottlingException","Message":"Rate exceeded"}"#.to_owned(),
        )
    } else if service == "ec2" || text.contains("Version=2016-11-15") {
        (
            "503 Service Unavailable",
            "text/xml",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>".to_owned(),
        )
    } else {
        // awsQuery (CloudFormation, STS, IAM).
        (
            "400 Bad Request",
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>".to_owned(),
        )
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra}content-length: {}\r\n\r\n{body}",
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
    trace: Option<&'a Mutex<Vec<TraceEntry>>>,
}

fn serve(
    mut conn: TcpStream,
    upstream: &str,
    counts: &FaultCounts,
    decider: &Decider,
    captured: &Mutex<Vec<Vec<u8>>>,
    hooks: Hooks<'_>,
) {
    while let Some(request) = read_request(&mut conn) {
        let (seq, fault) = decider.decide(&request, counts);
        if let Some(trace) = hooks.trace {
            trace.lock().unwrap().push(TraceEntry {
                seq,
                operation: operation_of(&request),
                fault,
            });
        }
        match fault {
            Some(Fault::Throttle) => {
                counts.throttled.fetch_add(1, Ordering::Relaxed);
                if conn.write_all(&throttle_response(&request)).is_err() {
                    return;
                }
            }
            Some(Fault::ServerError) => {
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
            Some(Fault::DropBefore) => {
                counts.dropped_before.fetch_add(1, Ordering::Relaxed);
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::DropAfter) => {
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
    if body.starts_with("HTTP/1.1 ") {
        return body.into_bytes();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(invocation: &str, attempt: u32, target: &str) -> Vec<u8> {
        format!(
            "POST / HTTP/1.1\r\nx-amz-target: {target}\r\namz-sdk-invocation-id: {invocation}\r\namz-sdk-request: attempt={attempt}; max=10\r\ncontent-length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn random(rate: f64, seed: u64, pinned: Vec<(String, Fault)>) -> Decider {
        Decider::new(
            Schedule::Random {
                rate,
                seed,
                max_consecutive: MAX_CONSECUTIVE_FAULTS,
            },
            pinned,
        )
    }

    #[test]
    fn random_faults_come_at_the_rate_in_every_kind_and_replay_by_seed() {
        let (decider, counts) = (random(0.4, 1, Vec::new()), FaultCounts::default());
        let faults: Vec<Option<Fault>> = (0..10_000)
            .map(|i| {
                decider
                    .decide(&request(&format!("op-{i}"), 1, "X.Y"), &counts)
                    .1
            })
            .collect();
        let share = |f: Option<Fault>| faults.iter().filter(|x| **x == f).count() as f64 / 1e4;
        assert!((share(None) - 0.6).abs() < 0.02, "{}", share(None));
        for kind in Fault::ALL {
            assert!((share(Some(kind)) - 0.1).abs() < 0.015, "{kind:?}");
        }
        let again = random(0.4, 1, Vec::new());
        let replay: Vec<Option<Fault>> = (0..10_000)
            .map(|i| {
                again
                    .decide(&request(&format!("op-{i}"), 1, "X.Y"), &counts)
                    .1
            })
            .collect();
        assert_eq!(faults, replay, "the same seed, the same faults");
        let other = random(0.4, 2, Vec::new());
        let differs = (0..100)
            .map(|i| {
                other
                    .decide(&request(&format!("op-{i}"), 1, "X.Y"), &counts)
                    .1
            })
            .zip(&faults)
            .any(|(a, b)| a != *b);
        assert!(differs, "another seed, other faults");
    }

    #[test]
    fn one_operation_gets_at_most_five_faults_in_a_row() {
        let (decider, counts) = (random(1.0, 3, Vec::new()), FaultCounts::default());
        let faults: Vec<bool> = (1..=12)
            .map(|a| {
                decider
                    .decide(&request("op", a, "X.Y"), &counts)
                    .1
                    .is_some()
            })
            .collect();
        assert_eq!(
            faults,
            [
                true, true, true, true, true, false, true, true, true, true, true, false
            ]
        );
        assert_eq!(counts.capped.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_pinned_operation_gets_its_fault_on_the_first_attempt_only() {
        let pinned = vec![("CreateTrainingJob".to_owned(), Fault::DropAfter)];
        let (decider, counts) = (random(0.0, 4, pinned), FaultCounts::default());
        let create = "SageMaker.CreateTrainingJob";
        assert_eq!(
            decider.decide(&request("a", 1, create), &counts).1,
            Some(Fault::DropAfter)
        );
        assert_eq!(decider.decide(&request("a", 2, create), &counts).1, None);
        assert_eq!(
            decider
                .decide(&request("b", 1, "SageMaker.DescribeTrainingJob"), &counts)
                .1,
            None
        );
    }

    #[test]
    fn operations_are_named_by_target_action_or_path() {
        assert_eq!(
            operation_of(&request("a", 1, "SageMaker.CreateTrainingJob")),
            "SageMaker.CreateTrainingJob"
        );
        let query = b"POST / HTTP/1.1\r\nauthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudformation/aws4_request, SignedHeaders=host\r\ncontent-length: 38\r\n\r\nAction=CreateStack&Version=2010-05-15";
        assert_eq!(operation_of(query), "cloudformation:CreateStack");
        let rest = b"GET /2015-02-01/mount-targets?FileSystemId=fs-1 HTTP/1.1\r\nauthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/elasticfilesystem/aws4_request, SignedHeaders=host\r\n\r\n";
        assert_eq!(
            operation_of(rest),
            "elasticfilesystem:GET /2015-02-01/mount-targets"
        );
    }
}
