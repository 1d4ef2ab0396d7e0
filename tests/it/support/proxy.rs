//! A loopback HTTP/1.1 proxy that sits between sageflow and moto, breaks chosen responses
//! by a per-test fault plan, and records the AWS API action of every request.
//!
//! ```ignore
//! let proxy = Proxy::start(&moto.endpoint, vec![
//!     Rule::on("GetObject").key("T1015Z").nth(1).fault(Fault::Reset),
//!     Rule::on("FilterLogEvents").first(3).fault(Fault::Status(503)),
//! ]);
//! // run sageflow with `--endpoint-url proxy.endpoint`, then look at proxy.requests()
//! ```
//!
//! Each rule counts the requests it matches (action, service and a substring of the
//! object key or log stream), so "the 2nd GetObject of key X" or "every 3rd request" hit
//! the same request on every run whatever the concurrency. The first rule that fires
//! decides the fault. Faults that break a response in transit (reset, truncation, stall,
//! delay) forward the request first, as a network fault after the service acted would;
//! error statuses answer without forwarding, as a throttled or failing front end would.
//!
//! Plain threads and blocking sockets: one thread per client connection, one upstream
//! connection per request (`Connection: close`), bodies buffered whole (test objects are
//! small). socket2 only provides the zero linger that turns a close into a reset.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What to do to a matched request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the service's error document (500 InternalError, 503
    /// ServiceUnavailable, 403 AccessDenied) without forwarding.
    Status(u16),
    /// S3's throttling answer: 503 with the `SlowDown` XML error document.
    SlowDown,
    /// Send the headers and half the body, then reset the connection (RST).
    Reset,
    /// Announce the full Content-Length, send half the body, then close (FIN).
    Truncate,
    /// Wait this long before answering.
    Delay(Duration),
    /// Send half the body, wait this long, then send the rest.
    Stall(Duration),
    /// Refuse the signature the way AWS does, echoing what it checked: S3's
    /// `SignatureDoesNotMatch` document carries the canonical request (session token
    /// included) and the signature provided; the JSON and query services put the canonical
    /// string in the message.
    SignatureMismatch,
    /// Not a fault: forward a JSON request with `"limit": n`, so that a small log stream
    /// comes back in several FilterLogEvents pages.
    PageLimit(u32),
    /// Forward without the `Range` header, as a cache or server that ignores ranges would:
    /// the whole object comes back with 200.
    IgnoreRange,
    /// Not a fault: answer 200 with this JSON document without forwarding, for a call of a
    /// JSON service that moto does not implement.
    Json(String),
}

/// When a rule fires, counting only the requests it matches (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Nth(usize),
    First(usize),
    After(usize),
    Every(usize),
    Always,
}

impl When {
    fn fires(self, n: usize) -> bool {
        match self {
            When::Nth(k) => n == k,
            When::First(k) => n <= k,
            When::After(k) => n > k,
            When::Every(k) => n.is_multiple_of(k),
            When::Always => true,
        }
    }
}

/// A line of the fault plan.
#[derive(Debug, Clone)]
pub struct Rule {
    action: Option<String>,
    service: Option<String>,
    subject: Option<String>,
    when: When,
    fault: Fault,
    seen: usize,
}

impl Rule {
    /// Requests of one API action (`GetObject`, `FilterLogEvents`, `DescribeVpcs`, …).
    pub fn on(action: &str) -> Rule {
        Rule {
            action: Some(action.to_string()),
            ..Rule::any()
        }
    }

    /// Every request.
    pub fn any() -> Rule {
        Rule {
            action: None,
            service: None,
            subject: None,
            when: When::Always,
            fault: Fault::Status(500),
            seen: 0,
        }
    }

    /// Only requests to this service (the signing name: `s3`, `logs`, `ec2`, `sagemaker`).
    pub fn service(mut self, s: &str) -> Rule {
        self.service = Some(s.to_string());
        self
    }

    /// Only requests whose subject (S3 `bucket/key` or listed prefix, CloudWatch
    /// `group/stream`) contains `part`.
    pub fn key(mut self, part: &str) -> Rule {
        self.subject = Some(part.to_string());
        self
    }

    pub fn nth(mut self, n: usize) -> Rule {
        self.when = When::Nth(n);
        self
    }

    pub fn first(mut self, n: usize) -> Rule {
        self.when = When::First(n);
        self
    }

    /// Every matching request but the first `n`.
    pub fn after(mut self, n: usize) -> Rule {
        self.when = When::After(n);
        self
    }

    pub fn every(mut self, n: usize) -> Rule {
        self.when = When::Every(n);
        self
    }

    pub fn always(mut self) -> Rule {
        self.when = When::Always;
        self
    }

    pub fn fault(mut self, f: Fault) -> Rule {
        self.fault = f;
        self
    }

    fn matches(&self, r: &Request) -> bool {
        self.action.as_ref().is_none_or(|a| *a == r.action)
            && self.service.as_ref().is_none_or(|s| *s == r.service)
            && self
                .subject
                .as_ref()
                .is_none_or(|k| r.subject().contains(k.as_str()))
    }
}

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The signing name from the Authorization header's scope (`s3`, `logs`, `ec2`,
    /// `sagemaker`), else guessed from the protocol.
    pub service: String,
    /// The API operation (`ListObjectsV2`, `Logs_20140328.FilterLogEvents` →
    /// `FilterLogEvents`, EC2 `Action=`).
    pub action: String,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// S3: bucket and (decoded) key of path-style requests.
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Decoded query parameters (S3) or form fields (EC2 query protocol).
    pub params: BTreeMap<String, String>,
    /// S3 `x-amz-copy-source`, decoded.
    pub copy_source: Option<String>,
    /// JSON protocols: the request document.
    pub json: Option<serde_json::Value>,
    /// Header values a log must never show.
    pub authorization: Option<String>,
    pub security_token: Option<String>,
    /// The fault injected into this request's response, if any.
    pub fault: Option<Fault>,
}

impl Request {
    /// What rules match keys against: `bucket/key` (or `bucket/prefix` for listings),
    /// `group/stream,stream` for CloudWatch Logs.
    pub fn subject(&self) -> String {
        if let Some(b) = &self.bucket {
            let k = self
                .key
                .clone()
                .or_else(|| self.params.get("prefix").cloned())
                .unwrap_or_default();
            return format!("{b}/{k}");
        }
        if let Some(j) = &self.json {
            let group = j["logGroupName"].as_str().unwrap_or_default();
            let streams: Vec<&str> = j["logStreamNames"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
                .unwrap_or_default();
            return format!("{group}/{}", streams.join(","));
        }
        String::new()
    }

    /// The `Signature=` value of the Authorization header.
    pub fn signature(&self) -> Option<String> {
        let a = self.authorization.as_deref()?;
        let sig = a.split("Signature=").nth(1)?;
        Some(sig.trim().to_string())
    }
}

struct Shared {
    upstream: String,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Request>>,
}

/// A running proxy; it serves until the test binary exits.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`, for `--endpoint-url`.
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:<port>`) with a plan.
    pub fn start(upstream: &str, rules: Vec<Rule>) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::new(rules),
            log: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.log).clone()
    }

    /// `(service, action)` of every request so far.
    pub fn actions(&self) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .map(|r| (r.service, r.action))
            .collect()
    }

    /// How many requests had a fault injected (`PageLimit` is not one).
    pub fn injected(&self) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| {
                r.fault
                    .as_ref()
                    .is_some_and(|f| !matches!(f, Fault::PageLimit(_) | Fault::Json(_)))
            })
            .count()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An HTTP message head and body.
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn without(&mut self, names: &[&str]) {
        self.headers
            .retain(|(k, _)| !names.iter().any(|n| k.eq_ignore_ascii_case(n)));
    }
}

/// Serves one client connection, request after request (the SDK keeps connections alive).
fn serve(client: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the socket"));
    let mut client = client;
    loop {
        let Some(mut req) = read_head(&mut reader) else {
            return;
        };
        if req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            if client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
                return;
            }
            req.without(&["expect"]);
        }
        if read_body(&mut reader, &mut req, false).is_err() {
            return;
        }
        let mut seen = describe(&req);
        let fault = {
            let mut rules = lock(&shared.rules);
            let mut chosen = None;
            for r in rules.iter_mut().filter(|r| r.matches(&seen)) {
                r.seen += 1;
                if chosen.is_none() && r.when.fires(r.seen) {
                    chosen = Some(r.fault.clone());
                }
            }
            chosen
        };
        seen.fault = fault.clone();
        let is_head = req.start.starts_with("HEAD ");
        let service = seen.service.clone();
        lock(&shared.log).push(seen);

        let resp = match &fault {
            Some(Fault::Status(code)) => error_response(*code, &service),
            Some(Fault::SlowDown) => error_response(0, &service),
            Some(Fault::SignatureMismatch) => signature_mismatch(&req, &service),
            Some(Fault::Json(body)) => Message {
                start: "HTTP/1.1 200 OK".into(),
                headers: vec![
                    ("content-type".into(), "application/x-amz-json-1.1".into()),
                    ("x-amzn-requestid".into(), "CANNED".into()),
                ],
                body: body.clone().into_bytes(),
            },
            _ => {
                match &fault {
                    Some(Fault::IgnoreRange) => req.without(&["range", "if-match"]),
                    Some(Fault::PageLimit(n)) => {
                        let mut doc: serde_json::Value =
                            serde_json::from_slice(&req.body).expect("a JSON request");
                        doc["limit"] = (*n).into();
                        req.body = doc.to_string().into_bytes();
                    }
                    _ => {}
                }
                match forward(&shared.upstream, req, is_head) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("proxy: upstream failed: {e}");
                        return;
                    }
                }
            }
        };
        let head = head_bytes(&resp, is_head);
        let body: &[u8] = if is_head { &[] } else { &resp.body };
        let ok = match fault {
            Some(Fault::Reset) => {
                let _ = client.write_all(&head);
                let _ = client.write_all(&body[..body.len() / 2]);
                let _ = client.flush();
                // A zero linger makes close() send RST instead of FIN.
                let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                return;
            }
            Some(Fault::Truncate) => {
                let _ = client.write_all(&head);
                let _ = client.write_all(&body[..body.len() / 2]);
                let _ = client.flush();
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Delay(d)) => {
                std::thread::sleep(d);
                write_all(&mut client, &head, body)
            }
            Some(Fault::Stall(d)) => {
                let half = body.len() / 2;
                let first = client
                    .write_all(&head)
                    .and_then(|_| client.write_all(&body[..half]))
                    .and_then(|_| client.flush());
                std::thread::sleep(d);
                first.is_ok() && client.write_all(&body[half..]).is_ok()
            }
            _ => write_all(&mut client, &head, body),
        };
        if !ok {
            return;
        }
    }
}

fn write_all(client: &mut TcpStream, head: &[u8], body: &[u8]) -> bool {
    client.write_all(head).is_ok() && client.write_all(body).is_ok() && client.flush().is_ok()
}

/// The status line and headers to send, with the body framed by Content-Length (a HEAD
/// answer keeps the object's length and has no body).
fn head_bytes(resp: &Message, is_head: bool) -> Vec<u8> {
    // Keep-alive needs HTTP/1.1 framing towards the client whatever moto spoke.
    let start = resp.start.replacen("HTTP/1.0", "HTTP/1.1", 1);
    let mut out = format!("{start}\r\n");
    for (k, v) in &resp.headers {
        let framing = ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|n| k.eq_ignore_ascii_case(n));
        if !framing {
            out += &format!("{k}: {v}\r\n");
        }
    }
    let status: u16 = resp
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if is_head {
        if let Some(len) = resp.header("content-length") {
            out += &format!("content-length: {len}\r\n");
        }
    } else if status != 204 && status != 304 {
        out += &format!("content-length: {}\r\n", resp.body.len());
    }
    out += "\r\n";
    out.into_bytes()
}

/// Sends `req` to moto on a fresh connection and reads the whole answer.
fn forward(upstream: &str, mut req: Message, is_head: bool) -> std::io::Result<Message> {
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(120)))?;
    req.without(&["connection", "transfer-encoding", "content-length"]);
    let mut head = format!("{}\r\n", req.start);
    for (k, v) in &req.headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += &format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        req.body.len()
    );
    up.write_all(head.as_bytes())?;
    up.write_all(&req.body)?;
    up.flush()?;
    let mut reader = BufReader::new(up);
    let mut resp = read_head(&mut reader).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no response head")
    })?;
    let status: u16 = resp
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let bodiless = is_head || status == 204 || status == 304 || (100..200).contains(&status);
    if !bodiless {
        read_body(&mut reader, &mut resp, true)?;
    }
    Ok(resp)
}

/// Reads a start line and headers; `None` at a clean end of the connection.
fn read_head(r: &mut impl BufRead) -> Option<Message> {
    let mut start = String::new();
    loop {
        start.clear();
        if r.read_line(&mut start).ok()? == 0 {
            return None;
        }
        if !start.trim().is_empty() {
            break;
        }
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Some(Message {
        start: start.trim_end().to_string(),
        headers,
        body: Vec::new(),
    })
}

/// Reads the body framed by chunked encoding or Content-Length; a response without either
/// runs to the end of the connection.
fn read_body(r: &mut impl BufRead, m: &mut Message, is_response: bool) -> std::io::Result<()> {
    let chunked = m
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                return Ok(());
            }
            let mut chunk = vec![0; size];
            r.read_exact(&mut chunk)?;
            m.body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf)?;
        }
    }
    match m
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(n) => {
            m.body = vec![0; n];
            r.read_exact(&mut m.body)
        }
        None if is_response => r.read_to_end(&mut m.body).map(|_| ()),
        None => Ok(()),
    }
}

/// Classifies a request: service and API action, plus what rules and policies look at.
fn describe(req: &Message) -> Request {
    let mut parts = req.start.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let authorization = req.header("authorization").map(str::to_string);
    let scope_service = authorization.as_deref().and_then(|a| {
        let cred = a.split("Credential=").nth(1)?;
        let cred = cred.split([',', ' ']).next()?;
        cred.split('/').nth(3).map(str::to_string)
    });
    let mut r = Request {
        service: String::new(),
        action: String::new(),
        method: method.clone(),
        target: target.clone(),
        bucket: None,
        key: None,
        params: BTreeMap::new(),
        copy_source: req.header("x-amz-copy-source").map(percent_decode),
        json: None,
        authorization,
        security_token: req.header("x-amz-security-token").map(str::to_string),
        fault: None,
    };
    if let Some(t) = req.header("x-amz-target") {
        let (prefix, op) = t.split_once('.').unwrap_or(("", t));
        r.action = op.to_string();
        r.service = scope_service.unwrap_or_else(|| {
            if prefix.starts_with("Logs_") {
                "logs".into()
            } else {
                prefix.to_ascii_lowercase()
            }
        });
        r.json = serde_json::from_slice(&req.body).ok();
        return r;
    }
    let form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form {
        r.params = parse_query(&String::from_utf8_lossy(&req.body));
        if let Some(a) = r.params.get("Action") {
            r.action = a.clone();
            r.service = scope_service.unwrap_or_else(|| "ec2".into());
            return r;
        }
    }
    // S3, path-style.
    r.service = scope_service.unwrap_or_else(|| "s3".into());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    r.params = parse_query(query);
    let path = path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    r.bucket = Some(percent_decode(bucket)).filter(|b| !b.is_empty());
    r.key = Some(percent_decode(key)).filter(|k| !k.is_empty());
    let q = |k: &str| r.params.contains_key(k);
    r.action = match (method.as_str(), r.key.is_some()) {
        ("GET", false) if r.params.get("list-type").map(String::as_str) == Some("2") => {
            "ListObjectsV2"
        }
        ("GET", false) if q("location") => "GetBucketLocation",
        ("GET", false) if q("versions") => "ListObjectVersions",
        ("GET", false) if q("uploads") => "ListMultipartUploads",
        ("GET", false) if r.bucket.is_none() => "ListBuckets",
        ("GET", false) => "ListObjects",
        ("HEAD", false) => "HeadBucket",
        ("PUT", false) => "CreateBucket",
        ("DELETE", false) => "DeleteBucket",
        ("POST", false) if q("delete") => "DeleteObjects",
        ("GET", true) if q("tagging") => "GetObjectTagging",
        ("GET", true) if q("acl") => "GetObjectAcl",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("PUT", true) if r.copy_source.is_some() && q("partNumber") => "UploadPartCopy",
        ("PUT", true) if r.copy_source.is_some() => "CopyObject",
        ("PUT", true) if q("partNumber") => "UploadPart",
        ("PUT", true) => "PutObject",
        ("DELETE", true) if q("uploadId") => "AbortMultipartUpload",
        ("DELETE", true) => "DeleteObject",
        ("POST", true) if q("uploads") => "CreateMultipartUpload",
        ("POST", true) if q("uploadId") => "CompleteMultipartUpload",
        (m, _) => return unknown(r, m),
    }
    .to_string();
    r
}

fn unknown(mut r: Request, method: &str) -> Request {
    r.action = format!("Unknown{method}");
    r
}

/// The error answer of a fault: the service's error document for the status
/// (`status` 0: S3 `SlowDown`).
fn error_response(status: u16, service: &str) -> Message {
    let (status, code, text) = match status {
        0 => (503, "SlowDown", "Please reduce your request rate."),
        403 => (403, "AccessDenied", "Access Denied"),
        500 => (500, "InternalError", "We encountered an internal error."),
        503 => (
            503,
            "ServiceUnavailable",
            "Service is unable to handle request.",
        ),
        s => (s, "InternalError", "Injected fault."),
    };
    let reason = match status {
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let (content_type, body) = match service {
        "s3" => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{text}</Message><RequestId>FAULT</RequestId><HostId>proxy</HostId></Error>"
            ),
        ),
        "ec2" => (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors><RequestID>FAULT</RequestID></Response>"
            ),
        ),
        _ => {
            let code = match code {
                "ServiceUnavailable" => "ServiceUnavailableException",
                "AccessDenied" => "AccessDeniedException",
                _ => "InternalFailure",
            };
            (
                "application/x-amz-json-1.1",
                format!("{{\"__type\":\"{code}\",\"message\":\"{text}\"}}"),
            )
        }
    };
    Message {
        start: format!("HTTP/1.1 {status} {reason}"),
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-amzn-requestid".into(), "FAULT".into()),
        ],
        body: body.into_bytes(),
    }
}

fn signature_mismatch(req: &Message, service: &str) -> Message {
    let auth = req.header("authorization").unwrap_or_default();
    let signature = auth.split("Signature=").nth(1).unwrap_or_default();
    let access_key = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or_default();
    let mut headers: Vec<String> = req
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
        .map(|(k, v)| format!("{}:{v}", k.to_ascii_lowercase()))
        .collect();
    headers.sort();
    let (method, target) = req.start.split_once(' ').unwrap_or(("", ""));
    let target = target.split(' ').next().unwrap_or_default();
    let canonical = format!("{method}\n{target}\n\n{}\n", headers.join("\n"));
    let xml = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let message = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
    let (content_type, body) = match service {
        "s3" => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>{message}</Message><AWSAccessKeyId>{access_key}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256</StringToSign><SignatureProvided>{signature}</SignatureProvided><CanonicalRequest>{}</CanonicalRequest><RequestId>FAULT</RequestId><HostId>proxy</HostId></Error>",
                xml(&canonical)
            ),
        ),
        "ec2" => (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>{message}\n\nThe Canonical String for this request should have been\n'{}'\n\nSignature provided: {signature}</Message></Error></Errors><RequestID>FAULT</RequestID></Response>",
                xml(&canonical)
            ),
        ),
        _ => (
            "application/x-amz-json-1.1",
            serde_json::json!({
                "__type": "InvalidSignatureException",
                "message": format!("{message}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nSignature provided: {signature}"),
            })
            .to_string(),
        ),
    };
    Message {
        start: "HTTP/1.1 403 Forbidden".into(),
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-amzn-requestid".into(), "FAULT".into()),
        ],
        body: body.into_bytes(),
    }
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let plus = |x: &str| percent_decode(&x.replace('+', " "));
            (plus(k), plus(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
