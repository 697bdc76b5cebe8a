//! Deploy engine behaviour the emulator cannot show (its stacks finish at once, emit no
//! per-resource events, never roll back, and have no second client mid-operation), tested with
//! `aws-smithy-mocks` sequences shaped like real CloudFormation answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::create_stack::CreateStackOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{Output, ResourceStatus, Stack, StackEvent, StackStatus, Tag};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

use super::up::{UpRequest, stack_tags, up};
use super::wait::WaitSettings;
use crate::aws::Aws;
use crate::report::json::JsonReporter;
use crate::report::plain::PlainReporter;
use crate::report::{Change, Outcome, Reporter, ResourceEvent};

const ID: &str = "arn:aws:cloudformation:us-west-2:123456789012:stack/demo/1111";
const BODY: &str = "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n";

fn stack(status: &str) -> Stack {
    Stack::builder()
        .stack_name("demo")
        .stack_id(ID)
        .stack_status(StackStatus::from(status))
        .creation_time(DateTime::from_secs(1_700_000_000))
        .set_tags(Some(
            stack_tags::<String, String>(&Default::default())
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .outputs(
            Output::builder()
                .output_key("VpcId")
                .output_value("vpc-0123abcd")
                .build(),
        )
        .build()
}

fn stacks(status: &str) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(stack(status))
        .build()
}

fn missing() -> DescribeStacksError {
    DescribeStacksError::generic(
        ErrorMetadata::builder()
            .code("ValidationError")
            .message("Stack with id demo does not exist")
            .build(),
    )
}

/// An event `secs` seconds after the stack's creation; `n` makes the id unique.
fn event(n: u32, secs: i64, logical: &str, ty: &str, status: &str, reason: &str) -> StackEvent {
    StackEvent::builder()
        .stack_id(ID)
        .stack_name("demo")
        .event_id(format!("e{n}"))
        .logical_resource_id(logical)
        .resource_type(ty)
        .resource_status(ResourceStatus::from(status))
        .set_resource_status_reason((!reason.is_empty()).then(|| reason.to_owned()))
        .timestamp(DateTime::from_secs(1_700_000_000 + secs))
        .build()
}

/// A page of events, newest first as CloudFormation returns them.
fn page(mut events: Vec<StackEvent>) -> DescribeStackEventsOutput {
    events.reverse();
    DescribeStackEventsOutput::builder()
        .set_stack_events(Some(events))
        .build()
}

fn empty_page() -> DescribeStackEventsOutput {
    DescribeStackEventsOutput::builder().build()
}

const STACK: &str = "AWS::CloudFormation::Stack";

/// Everything a reporter was told, in order.
#[derive(Default, Clone)]
pub(crate) struct Recorder(pub(crate) Arc<Mutex<Vec<String>>>);

impl Reporter for Recorder {
    fn target(&self, command: &str, stack: &str, target: &crate::deploy::target::Target) {
        self.0
            .lock()
            .unwrap()
            .push(format!("target {}", target.line(command, stack)));
    }
    fn notice(&self, message: &str) {
        self.0.lock().unwrap().push(format!("notice {message}"));
    }
    fn change_set(&self, changes: &[Change]) {
        self.0
            .lock()
            .unwrap()
            .push(format!("plan {}", changes.len()));
    }
    fn operation_started(&self, operation: &str, total: usize) {
        self.0
            .lock()
            .unwrap()
            .push(format!("start {operation} {total}"));
    }
    fn resource_event(&self, e: &ResourceEvent) {
        self.0
            .lock()
            .unwrap()
            .push(format!("event {} {}", e.logical_id, e.status));
    }
    fn heartbeat(&self, elapsed: Duration, done: usize, total: usize, _: &[String]) {
        self.0
            .lock()
            .unwrap()
            .push(format!("heartbeat {} {done}/{total}", elapsed.as_secs()));
    }
    fn finished(&self, o: &Outcome) {
        self.0
            .lock()
            .unwrap()
            .push(format!("finished {}", o.status));
    }
}

fn request(resources: &[(String, String)]) -> UpRequest<'_> {
    UpRequest {
        stack: "demo",
        body: BODY,
        resources,
        tags: stack_tags::<String, String>(&Default::default()),
        yes: true,
        confirm: None,
        termination_protection: false,
        continue_rollback: false,
        wait: WaitSettings {
            poll: Duration::from_secs(1),
            describe_every: 10,
            heartbeat: Duration::from_secs(30),
        },
        progress: None,
        described: None,
    }
}

fn vpc_only() -> Vec<(String, String)> {
    vec![("Vpc".to_owned(), "AWS::EC2::VPC".to_owned())]
}

#[tokio::test(start_paused = true)]
async fn a_failed_first_create_is_deleted_and_created_again() {
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stacks("ROLLBACK_COMPLETE"))
        .output(|| stacks("DELETE_COMPLETE"))
        .output(|| stacks("CREATE_COMPLETE"))
        .build();
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let create = mock!(Client::create_stack)
        .then_output(|| CreateStackOutput::builder().stack_id(ID).build());
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| {
            page(vec![
                event(1, 10, "demo", STACK, "DELETE_IN_PROGRESS", "User Initiated"),
                event(2, 11, "Vpc", "AWS::EC2::VPC", "DELETE_COMPLETE", ""),
                event(3, 12, "demo", STACK, "DELETE_COMPLETE", ""),
            ])
        })
        .output(empty_page)
        .output(|| {
            page(vec![
                event(4, 20, "demo", STACK, "CREATE_IN_PROGRESS", "User Initiated"),
                event(5, 21, "Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", ""),
                event(6, 22, "demo", STACK, "CREATE_COMPLETE", ""),
            ])
        })
        .output(empty_page)
        .build();
    let cfn = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &delete, &create, &events]
    );
    let aws = Aws::with_cloudformation(cfn);
    let recorder = Recorder::default();
    let resources = vpc_only();
    let outcome = up(&aws, &request(&resources), &recorder).await.unwrap();
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.status, "CREATE_COMPLETE");
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(create.num_calls(), 1);
    let log = recorder.0.lock().unwrap().join("\n");
    assert!(
        log.contains("notice stack `demo` is ROLLBACK_COMPLETE"),
        "{log}"
    );
    assert!(
        log.find("event Vpc DELETE_COMPLETE").unwrap()
            < log.find("event Vpc CREATE_COMPLETE").unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn up_attaches_to_an_operation_in_progress_then_finds_nothing_to_do() {
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stacks("UPDATE_IN_PROGRESS"))
        .output(|| stacks("UPDATE_IN_PROGRESS"))
        .output(|| stacks("UPDATE_COMPLETE"))
        .build();
    // The other client's operation reports for a while, then completes. Timestamps lie in
    // the future so they count as new.
    let future = 4_000_000_000 - 1_700_000_000;
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || {
            page(vec![event(
                1,
                future,
                "Vpc",
                "AWS::EC2::VPC",
                "UPDATE_IN_PROGRESS",
                "",
            )])
        })
        .output(empty_page)
        .times(3)
        .output(move || {
            page(vec![
                event(2, future + 5, "Vpc", "AWS::EC2::VPC", "UPDATE_COMPLETE", ""),
                event(3, future + 6, "demo", STACK, "UPDATE_COMPLETE", ""),
            ])
        })
        .output(empty_page)
        .build();
    let template = mock!(Client::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(BODY).build());
    let cfn = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &events, &template]
    );
    let aws = Aws::with_cloudformation(cfn);
    let recorder = Recorder::default();
    let resources = vpc_only();
    let outcome = up(&aws, &request(&resources), &recorder).await.unwrap();
    assert_eq!(outcome.status, "NO_CHANGES");
    let log = recorder.0.lock().unwrap().join("\n");
    assert!(log.contains("another operation is running"), "{log}");
    assert!(log.contains("event demo UPDATE_COMPLETE"), "{log}");
}

/// A create that fails: several resources, cancellations, rollback.
fn failing_create_events() -> Vec<Vec<StackEvent>> {
    vec![
        vec![
            event(1, 1, "demo", STACK, "CREATE_IN_PROGRESS", "User Initiated"),
            event(2, 2, "Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", ""),
            event(3, 3, "Role", "AWS::IAM::Role", "CREATE_IN_PROGRESS", ""),
        ],
        vec![
            event(4, 4, "Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", ""),
            event(
                5,
                5,
                "Fsx",
                "AWS::FSx::FileSystem",
                "CREATE_FAILED",
                "Invalid StorageCapacity: 3600",
            ),
            event(
                6,
                6,
                "Role",
                "AWS::IAM::Role",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            event(
                7,
                7,
                "demo",
                STACK,
                "ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to create: [Fsx, Role]",
            ),
        ],
        vec![
            event(8, 8, "Vpc", "AWS::EC2::VPC", "DELETE_COMPLETE", ""),
            event(9, 9, "demo", STACK, "ROLLBACK_COMPLETE", ""),
        ],
    ]
}

fn failing_create_client() -> (Client, aws_smithy_mocks::Rule) {
    let batches = failing_create_events();
    let (b0, b1, b2) = (batches[0].clone(), batches[1].clone(), batches[2].clone());
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .error(missing)
        .output(|| stacks("ROLLBACK_IN_PROGRESS"))
        .output(|| stacks("ROLLBACK_COMPLETE"))
        .build();
    let create = mock!(Client::create_stack)
        .then_output(|| CreateStackOutput::builder().stack_id(ID).build());
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || page(b0.clone()))
        .output(move || page(b1.clone()))
        .output(move || page(b2.clone()))
        .output(empty_page)
        .repeatedly()
        .build();
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &create, &events]
    );
    (client, events)
}

#[tokio::test(start_paused = true)]
async fn a_failed_create_reports_the_root_cause_first() {
    let (cfn, _) = failing_create_client();
    let aws = Aws::with_cloudformation(cfn);
    let resources = vpc_only();
    let outcome = up(&aws, &request(&resources), &Recorder::default())
        .await
        .unwrap();
    assert!(!outcome.success);
    assert_eq!(outcome.status, "ROLLBACK_COMPLETE");
    let ids: Vec<&str> = outcome
        .failures
        .iter()
        .map(|f| f.logical_id.as_str())
        .collect();
    assert_eq!(ids, ["Fsx", "Role"], "{:?}", outcome.failures);
    assert_eq!(
        outcome.failures[0].reason.as_deref(),
        Some("Invalid StorageCapacity: 3600")
    );
}

#[tokio::test(start_paused = true)]
async fn polling_notices_the_end_within_one_interval_at_about_one_call_per_second() {
    // 30 polls of nothing new, then the stack completes.
    let start_events = vec![event(
        1,
        1,
        "demo",
        STACK,
        "CREATE_IN_PROGRESS",
        "User Initiated",
    )];
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .error(missing)
        .output(|| stacks("CREATE_IN_PROGRESS"))
        .times(3)
        .output(|| stacks("CREATE_COMPLETE"))
        .repeatedly()
        .build();
    let create = mock!(Client::create_stack)
        .then_output(|| CreateStackOutput::builder().stack_id(ID).build());
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || page(start_events.clone()))
        .output(empty_page)
        .times(30)
        .output(|| page(vec![event(2, 40, "demo", STACK, "CREATE_COMPLETE", "")]))
        .output(empty_page)
        .repeatedly()
        .build();
    let cfn = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &create, &events]
    );
    let aws = Aws::with_cloudformation(cfn);
    let started = tokio::time::Instant::now();
    let resources = vpc_only();
    let outcome = up(&aws, &request(&resources), &Recorder::default())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(outcome.success);
    // The terminal event is served by the 32nd DescribeStackEvents, 31 intervals in.
    assert!(
        elapsed <= Duration::from_secs(32),
        "noticed after {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(30),
        "polled faster than once a second: {elapsed:?}"
    );
    let calls = events.num_calls() + describe.num_calls();
    let per_second = calls as f64 / elapsed.as_secs_f64();
    assert!(per_second <= 1.25, "{calls} calls in {elapsed:?}");
}

/// Renders the failing create through a reporter into text with stable values.
async fn rendered_with(make: fn(Box<dyn std::io::Write + Send>) -> Box<dyn Reporter>) -> String {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let reporter = make(Box::new(sink.clone()));
    let (cfn, _) = failing_create_client();
    let aws = Aws::with_cloudformation(cfn);
    let resources = vec![
        ("Vpc".to_owned(), "AWS::EC2::VPC".to_owned()),
        ("Role".to_owned(), "AWS::IAM::Role".to_owned()),
        ("Fsx".to_owned(), "AWS::FSx::FileSystem".to_owned()),
    ];
    let mut outcome = up(&aws, &request(&resources), reporter.as_ref())
        .await
        .unwrap();
    outcome.duration_seconds = 12.5;
    reporter.finished(&outcome);
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

/// The reporter's text as an insta snapshot (src/deploy/snapshots/), with event times filtered:
/// what is reviewed is the shape of the lines, not the mock's clock.
fn check_snapshot(name: &str, actual: &str) {
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
    ]}, {
        insta::assert_snapshot!(name, actual);
    });
}

#[tokio::test(start_paused = true)]
async fn plain_lines_of_a_full_up_match_the_snapshot() {
    let text = rendered_with(|w| Box::new(PlainReporter::new(w, false))).await;
    check_snapshot("up_plain", &text);
}

#[tokio::test(start_paused = true)]
async fn ndjson_of_a_full_up_matches_the_snapshot() {
    let text = rendered_with(|w| Box::new(JsonReporter::new(w))).await;
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is JSON");
    }
    check_snapshot("up_ndjson", &text);
}

#[tokio::test(start_paused = true)]
async fn update_rollback_failed_is_explained_and_continued_on_request() {
    let failed = || {
        let mut s = stack("UPDATE_ROLLBACK_FAILED");
        s.stack_status_reason =
            Some("Resource NotebookInstance was modified outside CloudFormation".to_owned());
        DescribeStacksOutput::builder().stacks(s).build()
    };
    // Without --continue-rollback: an explanation, nothing called but DescribeStacks.
    let describe = mock!(Client::describe_stacks).then_output(failed);
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe]);
    let aws = Aws::with_cloudformation(cfn);
    let resources = vpc_only();
    let err = up(&aws, &request(&resources), &Recorder::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("UPDATE_ROLLBACK_FAILED") && text.contains("stackctl up --continue-rollback"),
        "{text}"
    );
    assert!(text.contains("modified outside CloudFormation"), "{text}");

    // With it: ContinueUpdateRollback, wait, then the stack is compared as usual.
    use aws_sdk_cloudformation::operation::continue_update_rollback::ContinueUpdateRollbackOutput;
    let future = 4_000_000_000 - 1_700_000_000;
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .output(failed)
        .output(|| stacks("UPDATE_ROLLBACK_COMPLETE"))
        .repeatedly()
        .build();
    let cont = mock!(Client::continue_update_rollback)
        .then_output(|| ContinueUpdateRollbackOutput::builder().build());
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || {
            page(vec![event(
                1,
                future,
                "demo",
                STACK,
                "UPDATE_ROLLBACK_COMPLETE",
                "",
            )])
        })
        .output(empty_page)
        .repeatedly()
        .build();
    let template = mock!(Client::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(BODY).build());
    let cfn = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &cont, &events, &template]
    );
    let aws = Aws::with_cloudformation(cfn);
    let mut req = request(&resources);
    req.continue_rollback = true;
    let outcome = up(&aws, &req, &Recorder::default()).await.unwrap();
    assert_eq!(cont.num_calls(), 1);
    assert_eq!(outcome.status, "NO_CHANGES");
}

/// CreateStack retried after its first reply was lost: CloudFormation drops a retry with the
/// same ClientRequestToken, an endpoint that ignores the token answers AlreadyExistsException.
/// Every event of an operation carries the operation's token (API Reference, StackEvent
/// `ClientRequestToken`), so the stack is ours exactly when its events carry our token.
fn retried_create_client(events_token: Option<&'static str>) -> (Client, aws_smithy_mocks::Rule) {
    let sent_token: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = sent_token.clone();
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .error(missing)
        .output(|| stacks("CREATE_IN_PROGRESS"))
        .output(|| stacks("CREATE_COMPLETE"))
        .repeatedly()
        .build();
    let create = mock!(Client::create_stack)
        .match_requests(move |input| {
            *seen.lock().unwrap() = input.client_request_token().map(str::to_owned);
            true
        })
        .sequence()
        .http_status(500, None)
        .error(|| {
            aws_sdk_cloudformation::operation::create_stack::CreateStackError::generic(
                ErrorMetadata::builder()
                    .code("AlreadyExistsException")
                    .message("Stack [demo] already exists")
                    .build(),
            )
        })
        .build();
    let tokened = move |n: u32, secs: i64, logical: &str, status: &str| {
        let token = match events_token {
            Some(t) => t.to_owned(),
            None => sent_token.lock().unwrap().clone().unwrap_or_default(),
        };
        let mut e = event(n, secs, logical, STACK, status, "");
        e.client_request_token = Some(token);
        e
    };
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output({
            let tokened = tokened.clone();
            move || page(vec![tokened(1, 1, "demo", "CREATE_IN_PROGRESS")])
        })
        .output(move || {
            page(vec![
                tokened(1, 1, "demo", "CREATE_IN_PROGRESS"),
                tokened(2, 2, "demo", "CREATE_COMPLETE"),
            ])
        })
        .output(empty_page)
        .repeatedly()
        .build();
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &create, &events],
        |b| b.retry_config(
            aws_sdk_cloudformation::config::retry::RetryConfig::standard().with_max_attempts(3)
        )
    );
    (client, events)
}

#[tokio::test(start_paused = true)]
async fn a_create_retried_after_a_lost_reply_attaches_to_its_own_stack() {
    let (cfn, _) = retried_create_client(None);
    let aws = Aws::with_cloudformation(cfn);
    let resources = vpc_only();
    let outcome = up(&aws, &request(&resources), &Recorder::default())
        .await
        .unwrap();
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.status, "CREATE_COMPLETE");
}

#[tokio::test(start_paused = true)]
async fn a_retried_create_that_finds_another_token_does_not_attach() {
    let (cfn, _) = retried_create_client(Some("someone-elses-token"));
    let aws = Aws::with_cloudformation(cfn);
    let resources = vpc_only();
    let err = up(&aws, &request(&resources), &Recorder::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, super::DeployError::BadState { status, .. } if status == "ALREADY_EXISTS"),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn already_exists_on_the_first_attempt_is_another_clients_stack() {
    let describe = mock!(Client::describe_stacks).then_error(missing);
    let create = mock!(Client::create_stack).then_error(|| {
        aws_sdk_cloudformation::operation::create_stack::CreateStackError::generic(
            ErrorMetadata::builder()
                .code("AlreadyExistsException")
                .message("Stack [demo] already exists")
                .build(),
        )
    });
    let events = mock!(Client::describe_stack_events).then_output(empty_page);
    let cfn = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &create, &events]
    );
    let aws = Aws::with_cloudformation(cfn);
    let resources = vpc_only();
    let err = up(&aws, &request(&resources), &Recorder::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, super::DeployError::BadState { status, .. } if status == "ALREADY_EXISTS"),
        "{err:?}"
    );
    assert_eq!(events.num_calls(), 0, "never ours: nothing to look at");
}
