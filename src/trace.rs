//! `-v` / `--verbose` and `RUST_LOG`: tracing events on stderr.
//!
//! The default installs nothing, so a plain run (and `--help`) pays nothing for tracing. `-v`
//! shows one line per AWS attempt ([`crate::aws::TRACE_TARGET`]: service, operation, HTTP
//! status, latency, attempt, request id); `-vv` adds the SDK's own debug events; `RUST_LOG`,
//! when set, replaces both with its own directives. Whatever the filter, the signer's events
//! are off (they hold the canonical request, which carries the session token) and every line
//! goes through [`Redact`], which masks credentials and signatures, so neither reaches the
//! terminal or a log file.

use std::io::{self, IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Directives for `-v`: stackctl's call lines only.
const VERBOSE: &str = "off,stackctl=info";

/// Directives for `-vv` and more: the SDK's debug events too, without the HTTP stack's noise.
const VERY_VERBOSE: &str =
    "debug,hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=info,tokio=info,mio=info";

/// Always appended: the signer logs the canonical request and string to sign.
const ALWAYS_OFF: &str = "aws_sigv4=off";

/// The filter for a verbosity and a `RUST_LOG` value; `None` when nothing is to be shown.
fn directives(verbose: u8, rust_log: Option<&str>) -> Option<String> {
    let base = match (rust_log.filter(|v| !v.trim().is_empty()), verbose) {
        (Some(env), _) => env.to_owned(),
        (None, 0) => return None,
        (None, 1) => VERBOSE.to_owned(),
        (None, _) => VERY_VERBOSE.to_owned(),
    };
    Some(format!("{base},{ALWAYS_OFF}"))
}

/// Installs the subscriber for `verbose` (the count of `-v`) and `RUST_LOG`; does nothing when
/// neither asks for events. A `RUST_LOG` that does not parse is said once on stderr and `-v`'s
/// filter is used instead.
pub fn init(verbose: u8) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let Some(text) = directives(verbose, rust_log.as_deref()) else {
        return;
    };
    let filter = EnvFilter::try_new(&text).unwrap_or_else(|e| {
        let _ = writeln!(
            io::stderr(),
            "warning: RUST_LOG is not a valid filter ({e}); using -v's"
        );
        EnvFilter::new(format!("{VERBOSE},{ALWAYS_OFF}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redact::stderr())
        .with_ansi(io::stderr().is_terminal())
        .with_target(verbose >= 2 || rust_log.is_some())
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .try_init();
}

/// Masks secrets in what it writes: the values of `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN` from the environment, and anything shaped like a signature, an
/// authorization header, a security token or a secret key field. The SDK's own debug events are
/// not written to show secrets (its credential types redact themselves); this is the second
/// line of defence, for a dependency that one day prints a header.
#[derive(Clone)]
pub struct Redact {
    literals: Vec<String>,
    sink: fn() -> Box<dyn Write>,
}

impl Redact {
    /// Masking writer onto stderr.
    fn stderr() -> Self {
        Self::new(|| Box::new(io::stderr()))
    }

    fn new(sink: fn() -> Box<dyn Write>) -> Self {
        let literals = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            // A one-letter "secret" would mask half of every line; real ones are 40+.
            .filter(|v| v.len() >= 8)
            .collect();
        Self { literals, sink }
    }

    /// `text` with every secret masked.
    pub fn mask(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for literal in &self.literals {
            text = text.replace(literal.as_str(), "***");
        }
        patterns()
            .replace_all(&text, "${name}${sep}***")
            .into_owned()
    }
}

/// Key-value shapes whose value is secret, in headers, query strings and debug output.
fn patterns() -> &'static regex_lite::Regex {
    static RE: std::sync::OnceLock<regex_lite::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex_lite::Regex::new(
            r#"(?i)(?P<name>authorization|x-amz-security-token|x-amz-signature|signature|secret_access_key|secret-access-key|secretaccesskey|session_token|sessiontoken|aws_secret_access_key)(?P<sep>"?\s*[:=]\s*"?)[^\s"&,;)}\]]+"#,
        )
        .expect("the redaction pattern is valid")
    })
}

/// One event's text, masked and written when the subscriber drops it (the fmt layer writes an
/// event in pieces; masking the whole line catches a secret split across two writes).
pub struct RedactLine {
    redact: Redact,
    buffer: Vec<u8>,
}

impl Write for RedactLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactLine {
    fn drop(&mut self) {
        let text = self.redact.mask(&String::from_utf8_lossy(&self.buffer));
        let mut sink = (self.redact.sink)();
        let _ = sink.write_all(text.as_bytes());
        let _ = sink.flush();
    }
}

impl<'a> MakeWriter<'a> for Redact {
    type Writer = RedactLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactLine {
            redact: self.clone(),
            buffer: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_silent_and_the_signer_is_always_off() {
        assert_eq!(directives(0, None), None);
        assert_eq!(directives(0, Some(" ")), None);
        assert_eq!(
            directives(1, None).unwrap(),
            "off,stackctl=info,aws_sigv4=off"
        );
        assert!(directives(2, None).unwrap().starts_with("debug,"));
        assert!(directives(3, None).unwrap().ends_with(",aws_sigv4=off"));
        // RUST_LOG wins over -v, and still cannot turn the signer on.
        assert_eq!(directives(1, Some("trace")).unwrap(), "trace,aws_sigv4=off");
        for text in [VERBOSE, VERY_VERBOSE, ALWAYS_OFF] {
            assert!(EnvFilter::try_new(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn secrets_are_masked_in_every_shape() {
        let redact = Redact {
            literals: vec!["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned()],
            sink: || Box::new(io::sink()),
        };
        let line = "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
            authorization: AWS4-HMAC-SHA256 Credential=AKID/x, \
            X-Amz-Signature=abcdef0123 x-amz-security-token: \"FwoGZXIvYXdz\" \
            secret_access_key: \"s3cr3t\" SessionToken=tok&next=1";
        let masked = redact.mask(line);
        for secret in [
            "wJalrXUtnFEMI",
            "AWS4-HMAC",
            "abcdef0123",
            "FwoGZXIvYXdz",
            "s3cr3t",
            "tok&",
        ] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        // What is not secret stays readable.
        assert!(masked.contains("next=1"), "{masked}");
        assert_eq!(
            redact.mask("CloudFormation DescribeStacks status=200"),
            "CloudFormation DescribeStacks status=200"
        );
    }
}
