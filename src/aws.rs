//! AWS clients: configuration built once from the standard chain, the SDK's retry machinery
//! (with a retry quota sized for long sessions), a count of API calls, and mapping of SDK errors
//! to what the user can do about them.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_cloudformation::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_cloudformation::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::operation::RequestId;

/// How long one instance-metadata (IMDS) request may take: off EC2 nothing answers, and the
/// SDK's defaults (1 s, 4 attempts, plus a 5 s credential load timeout) make every command wait.
const IMDS_TIMEOUT: Duration = Duration::from_millis(1000);

/// The longest credential resolution before the first call; a backstop over the providers' own
/// timeouts (SSO, web identity and the container endpoint make network calls too).
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// The SDK's attempts per operation (the first one and its retries).
pub const MAX_ATTEMPTS: u32 = 10;

/// Capacity of each client's retry quota (the SDK's token bucket; its default is 500).
///
/// The standard retry strategy takes 5 tokens for a retry after throttling or a 4xx it retries
/// and 10 after a transient error (a 5xx, a reset, a timeout), gives back only the last retry's
/// tokens when the operation succeeds, and 1 token for an operation that succeeds first time
/// (aws-smithy-runtime 1.16, legacy costs). With 40 % of attempts failing that is a net loss
/// of about 1.7 tokens per operation, so the default 500 is gone after about 300 operations
/// and the SDK then stops retrying altogether: one `up` of the default stack on AWS polls
/// CloudFormation about once a second for 20-30 minutes (1,500 operations and more). 10,000
/// tokens last about 6,000 such operations; [`RETRY_REFILL_PER_SECOND`] covers longer sessions.
pub const RETRY_CAPACITY: usize = 10_000;

/// Tokens the retry quota regains per second: more than a sequential command at about one call
/// a second loses at a 40 % fault rate, so a long wait or `logs --follow` never runs dry, while
/// many requests in flight that all keep failing (an outage during `data stage`) still empty it
/// within minutes and the SDK stops hammering the endpoint.
pub const RETRY_REFILL_PER_SECOND: f32 = 2.0;

/// A retry partition of its own for one client of this process, with the quota above. (The
/// SDK's default partition is shared by every client of a service and region in the process
/// and has the default quota.)
fn retry_partition(service: &'static str) -> RetryPartition {
    RetryPartition::custom(format!("stackctl-{service}"))
        .token_bucket(
            TokenBucket::builder()
                .capacity(RETRY_CAPACITY)
                .refill_rate(RETRY_REFILL_PER_SECOND)
                .build(),
        )
        .build()
}

/// Counts the attempts of one operation: `call.customize().interceptor(attempts.clone())`.
/// An error after more than one attempt may follow an attempt that the server applied and whose
/// reply was lost; a create that then answers "already exists" may have found its own work.
#[derive(Debug, Clone, Default)]
pub struct Attempts(Arc<AtomicU32>);

impl Attempts {
    /// Attempts sent so far.
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// True when the operation was sent more than once.
    pub fn retried(&self) -> bool {
        self.count() > 1
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "stackctl::Attempts"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Where the AWS configuration comes from, besides the standard chain.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// `--region`; beats the stack file's `region` and the chain.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url`: every client talks to this AWS-compatible endpoint.
    pub endpoint_url: Option<String>,
}

/// API calls made by this process: operations (what stackctl asked for) and attempts (what went
/// on the wire, retries included).
#[derive(Debug, Default)]
pub struct ApiCounter {
    calls: AtomicU64,
    attempts: AtomicU64,
}

impl ApiCounter {
    /// Operations started.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// HTTP attempts, retries included.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone)]
struct CountCalls(Arc<ApiCounter>);

type BoxError = Box<dyn StdError + Send + Sync>;

/// When an attempt went on the wire, for its latency in the `-v` trace.
#[derive(Debug, Clone)]
struct AttemptStarted(std::time::Instant);

impl aws_smithy_types::config_bag::Storable for AttemptStarted {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// The target of the one-line-per-attempt trace `-v` shows (src/trace.rs turns it on).
pub const TRACE_TARGET: &str = "stackctl::aws";

/// The request id AWS returns in a header (the name differs between protocols).
fn request_id(response: &HttpResponse) -> &str {
    ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
        .iter()
        .find_map(|name| response.headers().get(*name))
        .unwrap_or("-")
}

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "stackctl::CountCalls"
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: TRACE_TARGET, tracing::Level::INFO) {
            cfg.interceptor_state()
                .store_put(AttemptStarted(std::time::Instant::now()));
        }
        Ok(())
    }

    /// One line per attempt for `-v`: only names, numbers and the request id, never a header
    /// or body (credentials and signatures live there).
    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: TRACE_TARGET, tracing::Level::INFO) {
            return Ok(());
        }
        let meta = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>();
        let service = meta.map_or("?", |m| m.service());
        let operation = meta.map_or("?", |m| m.name());
        let attempt = cfg
            .load::<aws_smithy_runtime_api::client::retries::RequestAttempts>()
            .map_or(1, |a| a.attempts());
        let latency_ms = cfg
            .load::<AttemptStarted>()
            .map_or(0, |t| t.0.elapsed().as_millis());
        match context.response() {
            Some(response) => tracing::info!(
                target: TRACE_TARGET,
                "{service} {operation} status={} latency_ms={latency_ms} attempt={attempt} request_id={}",
                response.status().as_u16(),
                request_id(response),
            ),
            None => tracing::info!(
                target: TRACE_TARGET,
                "{service} {operation} status=none latency_ms={latency_ms} attempt={attempt} (no response: connection or timeout error)",
            ),
        }
        Ok(())
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The service clients of one command run, sharing one configuration and one call counter.
#[derive(Debug, Clone)]
pub struct Aws {
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// EFS.
    pub efs: aws_sdk_efs::Client,
    /// SageMaker.
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// S3 (path-style when an endpoint is given).
    pub s3: aws_sdk_s3::Client,
    /// FSx.
    pub fsx: aws_sdk_fsx::Client,
    /// CloudWatch Logs (training job logs).
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// DataSync (the S3 to EFS copy).
    pub datasync: aws_sdk_datasync::Client,
    /// ECR (training images).
    pub ecr: aws_sdk_ecr::Client,
    /// STS (the account id, for `doctor`).
    pub sts: aws_sdk_sts::Client,
    /// Service Quotas (SageMaker training and notebook quotas, for the preflight).
    pub quotas: aws_sdk_servicequotas::Client,
    /// The region every client uses.
    pub region: String,
    /// The endpoint every client uses instead of AWS's (--endpoint-url or AWS_ENDPOINT_URL).
    pub endpoint: Option<String>,
    counter: Arc<ApiCounter>,
    account: Arc<OnceLock<String>>,
}

/// Why AWS could not be used at all (exit code 4) or refused a call (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No region anywhere.
    #[error(
        "no AWS region: none given with --region, in the stack file, AWS_REGION or the profile"
    )]
    NoRegion,
    /// No provider of the standard chain has credentials (environment, shared files, SSO,
    /// web identity, container, instance metadata).
    #[error(
        "no AWS credentials found (looked in the environment, the shared config and credentials files, SSO, web identity, the container endpoint and instance metadata)"
    )]
    NoCredentialsFound,
    /// Credentials could not be found or used.
    #[error("no usable AWS credentials for {operation}")]
    NoCredentials {
        /// The call that needed them.
        operation: String,
        /// The SDK's reason.
        #[source]
        source: BoxError,
    },
    /// The endpoint did not answer.
    #[error("cannot reach the AWS endpoint for {operation}")]
    Unreachable {
        /// The call.
        operation: String,
        /// The SDK's reason.
        #[source]
        source: BoxError,
    },
    /// AWS answered with an error.
    #[error(
        "{operation} failed: {code}: {}{}",
        if message.is_empty() { "(no message)" } else { message },
        reply_context(*status, None, request_id.as_deref())
    )]
    Service {
        /// The call.
        operation: String,
        /// The error code, e.g. `ValidationError`.
        code: String,
        /// AWS's message.
        message: String,
        /// The HTTP status of the answer, when it came from one.
        status: Option<u16>,
        /// The request id AWS gave the call, when there is one.
        request_id: Option<String>,
    },
    /// An error answer without an AWS error code: the SDK cannot classify it. The status, the
    /// content type and the first bytes of the body say what answered.
    #[error(
        "{operation} failed: the answer has no AWS error code{}; it begins: {}",
        reply_context(Some(answer.status), answer.content_type.as_deref(), answer.request_id.as_deref()),
        answer.body_or_empty()
    )]
    Unclassified {
        /// The call.
        operation: String,
        /// What answered.
        answer: Box<Answer>,
        /// The SDK's reason, when it gave one.
        #[source]
        source: Option<BoxError>,
    },
    /// The endpoint answered, but not as an AWS API does (no error code, no request id, a
    /// body: a web page, a plain HTTP server); exit code 4, like an unreachable endpoint.
    #[error(
        "{operation} failed: the endpoint at {endpoint} answered HTTP {} with {}; it does not look like an AWS API: check --endpoint-url (it begins: {})",
        answer.status,
        answer.content_type.as_deref().unwrap_or("no content type"),
        answer.body_or_empty()
    )]
    NotAws {
        /// The call.
        operation: String,
        /// The endpoint stackctl was told to use, or AWS's.
        endpoint: String,
        /// What answered.
        answer: Box<Answer>,
    },
    /// Anything else the SDK reported (after its retries).
    #[error("{operation} failed")]
    Other {
        /// The call.
        operation: String,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },
}

impl AwsError {
    /// True for errors that mean AWS cannot be used at all (exit code 4).
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            Self::NoRegion
                | Self::NoCredentialsFound
                | Self::NoCredentials { .. }
                | Self::Unreachable { .. }
                | Self::NotAws { .. }
        )
    }

    /// The AWS error code, for service errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The AWS error message, for service errors.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Service { message, .. } => Some(message),
            _ => None,
        }
    }

    /// A service error stackctl itself decided on (no HTTP answer of its own).
    pub fn service(
        operation: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Service {
            operation: operation.into(),
            code: code.into(),
            message: message.into(),
            status: None,
            request_id: None,
        }
    }

    /// Maps an SDK error of `operation`: a service error keeps its code, message, HTTP status
    /// and request id; an answer without a code says what answered (status, content type, the
    /// first bytes of its body), and one that does not look like AWS at all is [`Self::NotAws`].
    pub fn from_sdk<E>(operation: impl Into<String>, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let operation = operation.into();
        match err {
            SdkError::ServiceError(service) => {
                let raw = service.raw();
                let e = service.err();
                match e.code() {
                    Some(code) => Self::Service {
                        operation,
                        code: code.to_owned(),
                        message: e.message().unwrap_or_default().to_owned(),
                        status: Some(raw.status().as_u16()),
                        request_id: e
                            .meta()
                            .request_id()
                            .or_else(|| raw.request_id())
                            .map(str::to_owned),
                    },
                    None => {
                        let request_id = e
                            .meta()
                            .request_id()
                            .or_else(|| raw.request_id())
                            .map(str::to_owned);
                        Answer::of(raw, request_id)
                            .into_error(operation, Some(Box::new(service.into_err())))
                    }
                }
            }
            SdkError::ResponseError(response) => {
                let reply = Answer::of(
                    response.raw(),
                    response.raw().request_id().map(str::to_owned),
                );
                let source: BoxError =
                    Box::new(SdkError::<E, HttpResponse>::ResponseError(response));
                reply.into_error(operation, Some(source))
            }
            SdkError::DispatchFailure(failure) => {
                let unreachable = failure.is_io() || failure.is_timeout();
                let source: BoxError =
                    Box::new(SdkError::<E, HttpResponse>::DispatchFailure(failure));
                if unreachable {
                    Self::Unreachable { operation, source }
                } else if mentions_credentials(source.as_ref()) {
                    Self::NoCredentials { operation, source }
                } else {
                    Self::Other { operation, source }
                }
            }
            other => {
                let source: BoxError = Box::new(other);
                if mentions_credentials(source.as_ref()) {
                    Self::NoCredentials { operation, source }
                } else {
                    Self::Other { operation, source }
                }
            }
        }
    }
}

/// The longest body excerpt an error shows, in characters.
pub const BODY_EXCERPT: usize = 200;

/// `" (HTTP 400, text/html, request id X)"`, with what is known; empty when nothing is.
fn reply_context(
    status: Option<u16>,
    content_type: Option<&str>,
    request_id: Option<&str>,
) -> String {
    let parts: Vec<String> = [
        status.map(|s| format!("HTTP {s}")),
        content_type.map(str::to_owned),
        request_id.map(|id| format!("request id {id}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// What an answer without an AWS error code looked like. Only the status, the content type,
/// the request id and the start of the body are kept: never other headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The content type, when given.
    pub content_type: Option<String>,
    /// The request id, when the answer had one.
    pub request_id: Option<String>,
    /// The first [`BODY_EXCERPT`] characters of the body, on one line.
    pub body: String,
}

impl Answer {
    fn of(raw: &HttpResponse, request_id: Option<String>) -> Self {
        Self {
            status: raw.status().as_u16(),
            content_type: raw.headers().get("content-type").map(str::to_owned),
            request_id,
            body: excerpt(raw.body().bytes().unwrap_or_default()),
        }
    }

    fn body_or_empty(&self) -> &str {
        if self.body.is_empty() {
            "(empty body)"
        } else {
            &self.body
        }
    }

    /// AWS APIs put a request id on every answer (`x-amzn-RequestId`, `x-amz-request-id`) and
    /// an error code in every error body. An answer with neither, and a body (or a web page
    /// whatever its status), came from something else; a 5xx without a page may be a fault on
    /// the way and is left unclassified.
    fn looks_like_aws(&self) -> bool {
        let html = self
            .content_type
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().contains("html"));
        let foreign = html || ((400..500).contains(&self.status) && !self.body.is_empty());
        self.request_id.is_some() || !foreign
    }

    fn into_error(self, operation: String, source: Option<BoxError>) -> AwsError {
        if self.looks_like_aws() {
            AwsError::Unclassified {
                operation,
                answer: Box::new(self),
                source,
            }
        } else {
            AwsError::NotAws {
                operation,
                endpoint: configured_endpoint(),
                answer: Box::new(self),
            }
        }
    }
}

/// The first [`BODY_EXCERPT`] characters of `body`, whitespace and control characters folded
/// into single spaces, `...` when cut.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let folded = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if folded.chars().count() > BODY_EXCERPT {
        let cut: String = folded.chars().take(BODY_EXCERPT).collect();
        format!("{cut}...")
    } else {
        folded
    }
}

/// The endpoint of the last configuration clients were built from (`--endpoint-url`), for
/// messages about an endpoint that is not AWS.
static ENDPOINT: Mutex<Option<String>> = Mutex::new(None);

fn configured_endpoint() -> String {
    ENDPOINT
        .lock()
        .ok()
        .and_then(|e| e.clone())
        .unwrap_or_else(|| "AWS's regional endpoint".to_owned())
}

/// True when the SDK's error chain holds a credentials error (identity resolution failed).
fn mentions_credentials(err: &(dyn StdError + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Resolves credentials once, before the first call, so a machine without any fails at once
/// with one line instead of a retried call ending in an IMDS timeout.
async fn resolve_credentials(provider: &SharedCredentialsProvider) -> Result<(), AwsError> {
    let operation = "resolving AWS credentials".to_owned();
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        // Every provider of the chain said "not here": nothing is configured.
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => Err(AwsError::NoCredentialsFound),
        // Something is configured but does not work (expired SSO token, bad profile, ...).
        Ok(Err(other)) => Err(AwsError::NoCredentials {
            operation,
            source: Box::new(other),
        }),
        Err(elapsed) => Err(AwsError::NoCredentials {
            operation,
            source: Box::new(elapsed),
        }),
    }
}

impl Aws {
    /// Builds the configuration once: `options`, then the stack file's region, then the
    /// standard chain; retries and timeouts suited to long CloudFormation operations.
    pub async fn connect(
        options: &AwsOptions,
        stack_region: Option<&str>,
    ) -> Result<Self, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // The SDK's standard retry strategy handles throttling, 5xx and dropped
            // connections with backoff; CloudFormation calls get more attempts than the default.
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = options.region.as_deref().or(stack_region) {
            loader = loader.region(Region::new(region.to_owned()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(AwsError::NoRegion);
        }
        // The same chain the loader builds, with an IMDS client that gives up quickly.
        let imds = aws_config::imds::Client::builder()
            .max_attempts(1)
            .connect_timeout(IMDS_TIMEOUT)
            .read_timeout(IMDS_TIMEOUT)
            .build();
        let mut chain =
            aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                .imds_client(imds);
        if let Some(profile) = &options.profile {
            chain = chain.profile_name(profile);
        }
        if let Some(region) = config.region() {
            chain = chain.region(region.clone());
        }
        let provider = SharedCredentialsProvider::new(chain.build().await);
        resolve_credentials(&provider).await?;
        let config = config.into_builder().credentials_provider(provider).build();
        Self::from_config(&config)
    }

    /// Clients for an already built configuration (tests use this with the emulator). Each
    /// client gets its own retry partition and quota ([`RETRY_CAPACITY`]).
    pub fn from_config(config: &SdkConfig) -> Result<Self, AwsError> {
        let region = config.region().ok_or(AwsError::NoRegion)?.to_string();
        if let (Some(url), Ok(mut endpoint)) = (config.endpoint_url(), ENDPOINT.lock()) {
            *endpoint = Some(url.to_owned());
        }
        let counter = Arc::new(ApiCounter::default());
        let count = CountCalls(counter.clone());
        Ok(Self {
            cfn: aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::config::Builder::from(config)
                    .retry_partition(retry_partition("cloudformation"))
                    .interceptor(count.clone())
                    .build(),
            ),
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .retry_partition(retry_partition("ec2"))
                    .interceptor(count.clone())
                    .build(),
            ),
            efs: aws_sdk_efs::Client::from_conf(
                aws_sdk_efs::config::Builder::from(config)
                    .retry_partition(retry_partition("efs"))
                    .interceptor(count.clone())
                    .build(),
            ),
            sagemaker: aws_sdk_sagemaker::Client::from_conf(
                aws_sdk_sagemaker::config::Builder::from(config)
                    .retry_partition(retry_partition("sagemaker"))
                    .interceptor(count.clone())
                    .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(config)
                    .retry_partition(retry_partition("cloudwatchlogs"))
                    .interceptor(count.clone())
                    .build(),
            ),
            fsx: aws_sdk_fsx::Client::from_conf(
                aws_sdk_fsx::config::Builder::from(config)
                    .retry_partition(retry_partition("fsx"))
                    .interceptor(count.clone())
                    .build(),
            ),
            ecr: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(config)
                    .retry_partition(retry_partition("ecr"))
                    .interceptor(count.clone())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(config)
                    .retry_partition(retry_partition("sts"))
                    .interceptor(count.clone())
                    .build(),
            ),
            quotas: aws_sdk_servicequotas::Client::from_conf(
                aws_sdk_servicequotas::config::Builder::from(config)
                    .retry_partition(retry_partition("servicequotas"))
                    .interceptor(count.clone())
                    .build(),
            ),
            datasync: aws_sdk_datasync::Client::from_conf(
                aws_sdk_datasync::config::Builder::from(config)
                    .retry_partition(retry_partition("datasync"))
                    .interceptor(count.clone())
                    .build(),
            ),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .retry_partition(retry_partition("s3"))
                    // Custom endpoints (the emulator, S3-compatible servers) need path-style.
                    .force_path_style(config.endpoint_url().is_some())
                    .interceptor(count)
                    .build(),
            ),
            region,
            endpoint: config.endpoint_url().map(str::to_owned),
            counter,
            account: Arc::default(),
        })
    }

    /// Clients whose CloudFormation client is `cfn` (a mocked one in tests); the other clients
    /// point nowhere and must not be used.
    #[cfg(test)]
    pub(crate) fn with_cloudformation(cfn: aws_sdk_cloudformation::Client) -> Self {
        let config = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let mut aws = Self::from_config(&config).expect("region is set");
        aws.cfn = cfn;
        // The STS client points nowhere: the account of mocked calls is fixed.
        let _ = aws.account.set("123456789012".to_owned());
        aws
    }

    /// Like [`Self::with_cloudformation`], with a (mocked) SageMaker client too.
    #[cfg(test)]
    pub(crate) fn with_cloudformation_and_sagemaker(
        cfn: aws_sdk_cloudformation::Client,
        sagemaker: aws_sdk_sagemaker::Client,
    ) -> Self {
        let mut aws = Self::with_cloudformation(cfn);
        aws.sagemaker = sagemaker;
        aws
    }

    /// The call counter.
    pub fn counter(&self) -> &ApiCounter {
        &self.counter
    }

    /// The account the credentials belong to: STS GetCallerIdentity (which needs no
    /// permission, STS API Reference), asked once per run.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        if let Some(account) = self.account.get() {
            return Ok(account.clone());
        }
        let me = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
        let account = me.account().unwrap_or_default().to_owned();
        let _ = self.account.set(account.clone());
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(
        status: u16,
        content_type: Option<&str>,
        request_id: Option<&str>,
        body: &str,
    ) -> Answer {
        Answer {
            status,
            content_type: content_type.map(str::to_owned),
            request_id: request_id.map(str::to_owned),
            body: excerpt(body.as_bytes()),
        }
    }

    #[test]
    fn what_looks_like_aws() {
        // A web page, whatever its status, and a 4xx with a body but no request id: not AWS.
        assert!(!reply(404, Some("text/html"), None, "<html/>").looks_like_aws());
        assert!(!reply(200, Some("text/html; charset=utf-8"), None, "<html/>").looks_like_aws());
        assert!(!reply(400, Some("application/json"), None, "{\"detail\":1}").looks_like_aws());
        // A request id is AWS's mark; an empty 404 (a HEAD) and a bare 5xx stay unclassified.
        assert!(reply(400, Some("text/html"), Some("r-1"), "<html/>").looks_like_aws());
        assert!(reply(404, None, None, "").looks_like_aws());
        assert!(reply(500, Some("text/plain"), None, "internal error").looks_like_aws());
    }

    #[test]
    fn the_excerpt_is_bounded_and_on_one_line() {
        assert_eq!(excerpt(b"a\r\n  b\tc\x00d"), "a b c d");
        let long = excerpt("é".repeat(500).as_bytes());
        assert_eq!(long.chars().count(), BODY_EXCERPT + 3);
        assert!(long.ends_with("..."));
    }

    #[test]
    fn messages_name_what_is_known() {
        let err = AwsError::Service {
            operation: "StopTrainingJob".into(),
            code: "ValidationException".into(),
            message: String::new(),
            status: Some(400),
            request_id: Some("abc".into()),
        };
        assert_eq!(
            err.to_string(),
            "StopTrainingJob failed: ValidationException: (no message) (HTTP 400, request id abc)"
        );
        assert_eq!(err.code(), Some("ValidationException"));
        let own = AwsError::service("CreateChangeSet", "ChangeSetTimeout", "still pending");
        assert_eq!(
            own.to_string(),
            "CreateChangeSet failed: ChangeSetTimeout: still pending"
        );
    }
}
