//! The local AWS emulator: moto in server mode on 127.0.0.1 and a free port, one per test,
//! stopped when the guard drops. Tests reach it through a recording pass-through proxy, so
//! every request they send lands in the wire log (`wire_log`).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_cloudformation::config::Credentials;

use super::fault_proxy::FaultProxy;
use super::wire_log;

/// A running moto_server behind its recording proxy.
pub struct Emulator {
    /// `http://127.0.0.1:<port>` of the recording proxy in front of moto.
    pub endpoint: String,
    // Declared before `child`: the proxy stops accepting before moto stops.
    recorder: FaultProxy,
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Emulator {
    /// Starts moto_server and its recording proxy, and waits until moto accepts connections.
    /// Requests are logged under the name of the calling thread (the test's name).
    #[track_caller]
    pub fn start() -> Emulator {
        // moto_server through scripts/moto-server.py, which adds the one CloudFormation
        // behaviour stackctl relies on that moto lacks (RetainExceptOnCreate keeps on delete).
        super::dev_tool("moto_server");
        let python = super::dev_tool("python");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(python)
            .arg(super::root().join("scripts/moto-server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("moto_server starts");
        let test = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        let recorder = FaultProxy::recording(format!("127.0.0.1:{port}"), wire_log::recorder(test));
        let mut emulator = Emulator {
            endpoint: recorder.endpoint.clone(),
            recorder,
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = emulator.child.try_wait() {
                panic!("moto_server exited with {status}:\n{}", emulator.log());
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on port {port} within 60 s:\n{}",
                emulator.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        emulator
    }

    /// What moto_server has logged so far.
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// An S3 client for this emulator (path-style addressing: the emulator has no per-bucket
    /// host names).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
                .force_path_style(true)
                .build(),
        )
    }

    /// SDK configuration for this emulator: static test credentials, us-east-1.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region("us-east-1")
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .load()
            .await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
