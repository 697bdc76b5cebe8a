//! `down` against what the emulator cannot show, with `aws-smithy-mocks` sequences shaped like
//! the documented answers: a CloudFormation deletion that takes time and can end in
//! DELETE_FAILED, interfaces that services hold and release, FSx data repository tasks and
//! DataSync executions that run, training jobs that stop. Each test names the pages it follows.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Output, ResourceStatus, Stack, StackEvent, StackResourceSummary, StackStatus,
};
use aws_sdk_ec2::types::{
    GroupIdentifier, NetworkInterface, NetworkInterfaceAttachment, NetworkInterfaceStatus,
};
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};

use super::sweep::SweepSettings;
use super::{DownRequest, Progress, down};
use crate::aws::Aws;
use crate::deploy::DeployError;
use crate::deploy::tests::Recorder;
use crate::deploy::wait::WaitSettings;

const ACCOUNT: &str = "123456789012";
const ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/1111";
const SUBNET: &str = "subnet-0aaa1111";
const GROUP: &str = "sg-0aaa1111";
const VPC: &str = "vpc-0aaa1111";
const FSX: &str = "fs-0123456789abcdef0";
const TASK: &str = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0";
const ROLE: &str = "arn:aws:iam::123456789012:role/demo-ExecutionRole-1A2B3C";
const LOCATION: &str = "arn:aws:datasync:us-east-1:123456789012:location/loc-0123456789abcdef0";
/// Event times after the test's "now", so the event poller keeps them.
const FUTURE: i64 = 4_000_000_000;

/// The stack's resources: (logical id, type, physical id).
const RESOURCES: [(&str, &str, &str); 6] = [
    ("Vpc", "AWS::EC2::VPC", VPC),
    ("PrivateSubnet1", "AWS::EC2::Subnet", SUBNET),
    ("SecurityGroup", "AWS::EC2::SecurityGroup", GROUP),
    ("FsxFileSystem", "AWS::FSx::FileSystem", FSX),
    (
        "DataSyncEfsLocation",
        "AWS::DataSync::LocationEFS",
        LOCATION,
    ),
    ("DataSyncTask", "AWS::DataSync::Task", TASK),
];

/// What happened, shared by every mocked call.
#[derive(Default)]
struct State {
    /// Operations in call order.
    log: Vec<String>,
    /// DeleteStack calls so far.
    deletes: usize,
    /// Physical ids deleted directly by `down`.
    gone: BTreeSet<String>,
    /// DescribeStacks calls so far.
    describes: usize,
}

type Shared = Arc<Mutex<State>>;

/// How a scenario's services answer.
struct Scenario {
    /// The stack's status after the n-th DeleteStack (1-based), with the events of that
    /// deletion; `DELETE_COMPLETE` removes every resource.
    after_delete: fn(usize) -> (&'static str, Vec<StackEvent>),
    /// DescribeNetworkInterfaces in the stack's subnet and group, given what happened.
    interfaces: fn(&State) -> Vec<NetworkInterface>,
    /// Training jobs in progress (name), and how many DescribeTrainingJob polls each stays
    /// `Stopping` after StopTrainingJob.
    jobs: &'static [&'static str],
    /// The FSx task that runs, until cancelled.
    fsx_task: Option<&'static str>,
    /// The stack's status before `down` deletes it.
    initial: &'static str,
    /// A DataSync execution of the stack's task is transferring, until cancelled.
    transferring: bool,
}

fn event(n: usize, logical: &str, ty: &str, status: &str, reason: &str) -> StackEvent {
    StackEvent::builder()
        .stack_id(ID)
        .stack_name("demo")
        .event_id(format!("e{n}-{logical}-{status}"))
        .logical_resource_id(logical)
        .resource_type(ty)
        .resource_status(ResourceStatus::from(status))
        .set_resource_status_reason((!reason.is_empty()).then(|| reason.to_owned()))
        .timestamp(DateTime::from_secs(FUTURE + n as i64))
        .build()
}

/// A clean deletion: CloudFormation removes FSx and DataSync with their interfaces.
fn deleted_cleanly(n: usize) -> (&'static str, Vec<StackEvent>) {
    let stack = "AWS::CloudFormation::Stack";
    (
        "DELETE_COMPLETE",
        vec![
            event(n, "demo", stack, "DELETE_IN_PROGRESS", "User Initiated"),
            event(
                n,
                "FsxFileSystem",
                "AWS::FSx::FileSystem",
                "DELETE_IN_PROGRESS",
                "",
            ),
            event(
                n,
                "FsxFileSystem",
                "AWS::FSx::FileSystem",
                "DELETE_COMPLETE",
                "",
            ),
            event(
                n,
                "PrivateSubnet1",
                "AWS::EC2::Subnet",
                "DELETE_COMPLETE",
                "",
            ),
            event(n, "demo", stack, "DELETE_COMPLETE", ""),
        ],
    )
}

/// The first deletion fails on the subnet, with the reason CloudFormation gives (the EC2 API's
/// DependencyViolation text, as in CloudFormation's DELETE_FAILED events); the second works.
fn subnet_fails_once(n: usize) -> (&'static str, Vec<StackEvent>) {
    if n > 1 {
        return deleted_cleanly(n);
    }
    let stack = "AWS::CloudFormation::Stack";
    (
        "DELETE_FAILED",
        vec![
            event(n, "demo", stack, "DELETE_IN_PROGRESS", "User Initiated"),
            event(
                n,
                "PrivateSubnet1",
                "AWS::EC2::Subnet",
                "DELETE_FAILED",
                "The subnet 'subnet-0aaa1111' has dependencies and cannot be deleted. (Service: AmazonEC2; Status Code: 400; Error Code: DependencyViolation)",
            ),
            event(
                n,
                "demo",
                stack,
                "DELETE_FAILED",
                "The following resource(s) failed to delete: [PrivateSubnet1]. ",
            ),
        ],
    )
}

/// An interface shaped like DescribeNetworkInterfaces' answer (EC2 API reference).
fn interface(id: &str, description: &str, status: NetworkInterfaceStatus) -> NetworkInterface {
    NetworkInterface::builder()
        .network_interface_id(id)
        .subnet_id(SUBNET)
        .vpc_id(VPC)
        .owner_id(ACCOUNT)
        .description(description)
        .status(status)
        .groups(GroupIdentifier::builder().group_id(GROUP).build())
        .build()
}

/// A service's interface: requester-managed, attached to an instance of the service's account.
fn managed(id: &str, description: &str) -> NetworkInterface {
    let mut eni = interface(id, description, NetworkInterfaceStatus::InUse);
    eni.requester_managed = Some(true);
    eni.requester_id = Some("AROAEXAMPLE:service".to_owned());
    eni.attachment = Some(service_attachment());
    eni
}

/// An attachment a service holds (the shape the EC2 user guide's requester-managed interfaces
/// show: `ela-attach-...`, owner `amazon-aws`, not deleted on termination).
fn service_attachment() -> NetworkInterfaceAttachment {
    NetworkInterfaceAttachment::builder()
        .attachment_id("ela-attach-0123abcd")
        .instance_owner_id("amazon-aws")
        .delete_on_termination(false)
        .device_index(1)
        .status(aws_sdk_ec2::types::AttachmentStatus::Attached)
        .build()
}

/// A training job's interface, as little as AWS documents of it: in use, in the job's subnet
/// and security group (the stack's), attached for a service, and nothing else claimed (no
/// description, not marked requester-managed).
fn training_job_interface(id: &str) -> NetworkInterface {
    let mut eni = interface(id, "", NetworkInterfaceStatus::InUse);
    eni.attachment = Some(service_attachment());
    eni
}

/// The primary interface of an instance of this account (EC2 API reference's example answer).
fn instance_interface() -> NetworkInterface {
    let mut eni = interface(
        "eni-0c0ffee000000001",
        "Primary network interface",
        NetworkInterfaceStatus::InUse,
    );
    eni.attachment = Some(
        NetworkInterfaceAttachment::builder()
            .attachment_id("eni-attach-66c4350a")
            .instance_id("i-1234567890abcdef0")
            .instance_owner_id(ACCOUNT)
            .device_index(0)
            .delete_on_termination(true)
            .build(),
    );
    eni
}

fn world(scenario: Scenario) -> (Aws, Shared) {
    let state: Shared = Arc::default();
    if scenario.initial == "DELETE_IN_PROGRESS" {
        state.lock().unwrap().deletes = 1;
    }
    let note = |state: &Shared, op: &str| state.lock().unwrap().log.push(op.to_owned());

    // CloudFormation.
    let s = state.clone();
    let after = scenario.after_delete;
    let initial = scenario.initial;
    let describe =
        mock!(aws_sdk_cloudformation::Client::describe_stacks).then_compute_response(move |_| {
            let mut st = s.lock().unwrap();
            st.describes += 1;
            // A deletion someone else started counts as the first; it goes on for a while.
            let status =
                if st.deletes == 0 || (initial == "DELETE_IN_PROGRESS" && st.describes <= 2) {
                    initial
                } else {
                    after(st.deletes).0
                };
            let stack = Stack::builder()
                .stack_name("demo")
                .stack_id(ID)
                .stack_status(StackStatus::from(status))
                .creation_time(DateTime::from_secs(1_700_000_000))
                .outputs(
                    Output::builder()
                        .output_key("PrivateSubnetIds")
                        .output_value(SUBNET)
                        .build(),
                )
                .outputs(
                    Output::builder()
                        .output_key("SecurityGroupId")
                        .output_value(GROUP)
                        .build(),
                )
                .outputs(
                    Output::builder()
                        .output_key("ExecutionRoleArn")
                        .output_value(ROLE)
                        .build(),
                )
                .build();
            MockResponse::Output(DescribeStacksOutput::builder().stacks(stack).build())
        });
    let s = state.clone();
    let events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .then_compute_response(move |_| {
            let n = s.lock().unwrap().deletes;
            let mut all: Vec<StackEvent> = (1..=n).flat_map(|i| after(i).1).collect();
            all.reverse();
            MockResponse::Output(
                DescribeStackEventsOutput::builder()
                    .set_stack_events(Some(all))
                    .build(),
            )
        });
    let template = mock!(aws_sdk_cloudformation::Client::get_template).then_output(|| {
        let body: String = RESOURCES
            .iter()
            .fold("Resources:\n".to_owned(), |acc, (l, t, _)| {
                acc + &format!("  {l}:\n    Type: {t}\n")
            });
        GetTemplateOutput::builder().template_body(body).build()
    });
    let s = state.clone();
    let resources = mock!(aws_sdk_cloudformation::Client::list_stack_resources)
        .then_compute_response(move |_| {
            // While a deletion runs, the subnet shows DELETE_IN_PROGRESS since the deletion
            // started (long ago: the test's clock is paused, the wall clock is not).
            let deleting = {
                let st = s.lock().unwrap();
                st.deletes > 0 && after(st.deletes).0 == "DELETE_IN_PROGRESS"
            };
            let mut out = ListStackResourcesOutput::builder();
            for (logical, ty, physical) in RESOURCES {
                let status = if deleting && ty == "AWS::EC2::Subnet" {
                    ResourceStatus::DeleteInProgress
                } else {
                    ResourceStatus::CreateComplete
                };
                out = out.stack_resource_summaries(
                    StackResourceSummary::builder()
                        .logical_resource_id(logical)
                        .resource_type(ty)
                        .physical_resource_id(physical)
                        .resource_status(status)
                        .last_updated_timestamp(DateTime::from_secs(1_700_000_000))
                        .build(),
                );
            }
            MockResponse::Output(out.build())
        });
    let s = state.clone();
    let delete =
        mock!(aws_sdk_cloudformation::Client::delete_stack).then_compute_response(move |_| {
            let mut st = s.lock().unwrap();
            st.deletes += 1;
            st.log.push("DeleteStack".to_owned());
            MockResponse::Output(DeleteStackOutput::builder().build())
        });
    let cfn = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&describe, &events, &template, &resources, &delete]
    );

    // EC2: interfaces, and the subnet, group and VPC the sweep checks.
    let s = state.clone();
    let enis = scenario.interfaces;
    let describe_enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
        .then_compute_response(move |_| {
            let mut st = s.lock().unwrap();
            st.log.push("DescribeNetworkInterfaces".to_owned());
            let found = enis(&st);
            MockResponse::Output(
                aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput::builder()
                    .set_network_interfaces(Some(found))
                    .build(),
            )
        });
    let s = state.clone();
    let delete_eni = mock!(aws_sdk_ec2::Client::delete_network_interface).then_compute_response(
        move |input| {
            let mut st = s.lock().unwrap();
            let id = input.network_interface_id().unwrap_or_default().to_owned();
            st.log.push(format!("DeleteNetworkInterface {id}"));
            st.gone.insert(id);
            MockResponse::Output(
                aws_sdk_ec2::operation::delete_network_interface::DeleteNetworkInterfaceOutput::builder().build(),
            )
        },
    );
    // After a complete deletion, or once deleted directly, a describe by id answers NotFound
    // (EC2 API reference, error codes: InvalidSubnetID.NotFound, InvalidGroup.NotFound,
    // InvalidVpcID.NotFound).
    let gone = move |s: &Shared, id: &str| {
        let st = s.lock().unwrap();
        st.gone.contains(id) || (st.deletes > 0 && after(st.deletes).0 == "DELETE_COMPLETE")
    };
    let not_found = |code: &str| {
        aws_sdk_ec2::error::ErrorMetadata::builder()
            .code(code)
            .message("does not exist")
            .build()
    };
    let s = state.clone();
    let subnets = mock!(aws_sdk_ec2::Client::describe_subnets).then_compute_response(move |_| {
        if gone(&s, SUBNET) {
            MockResponse::Error(
                aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsError::generic(not_found(
                    "InvalidSubnetID.NotFound",
                )),
            )
        } else {
            MockResponse::Output(
                aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder()
                    .subnets(
                        aws_sdk_ec2::types::Subnet::builder()
                            .subnet_id(SUBNET)
                            .build(),
                    )
                    .build(),
            )
        }
    });
    let s = state.clone();
    let groups =
        mock!(aws_sdk_ec2::Client::describe_security_groups).then_compute_response(move |_| {
            if gone(&s, GROUP) {
                MockResponse::Error(
                    aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError::generic(
                        not_found("InvalidGroup.NotFound"),
                    ),
                )
            } else {
                MockResponse::Output(
                    aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder()
                        .security_groups(
                            aws_sdk_ec2::types::SecurityGroup::builder().group_id(GROUP).build(),
                        )
                        .build(),
                )
            }
        });
    let s = state.clone();
    let vpcs = mock!(aws_sdk_ec2::Client::describe_vpcs).then_compute_response(move |_| {
        if gone(&s, VPC) {
            MockResponse::Error(
                aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError::generic(not_found(
                    "InvalidVpcID.NotFound",
                )),
            )
        } else {
            MockResponse::Output(
                aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder()
                    .vpcs(aws_sdk_ec2::types::Vpc::builder().vpc_id(VPC).build())
                    .build(),
            )
        }
    });
    let mark = |s: &Shared, op: &str, id: &str| {
        let mut st = s.lock().unwrap();
        st.log.push(format!("{op} {id}"));
        st.gone.insert(id.to_owned());
    };
    let s = state.clone();
    let delete_subnet = mock!(aws_sdk_ec2::Client::delete_subnet).then_compute_response(move |i| {
        mark(&s, "DeleteSubnet", i.subnet_id().unwrap_or_default());
        MockResponse::Output(
            aws_sdk_ec2::operation::delete_subnet::DeleteSubnetOutput::builder().build(),
        )
    });
    let s = state.clone();
    let delete_group =
        mock!(aws_sdk_ec2::Client::delete_security_group).then_compute_response(move |i| {
            mark(&s, "DeleteSecurityGroup", i.group_id().unwrap_or_default());
            MockResponse::Output(
                aws_sdk_ec2::operation::delete_security_group::DeleteSecurityGroupOutput::builder()
                    .build(),
            )
        });
    let s = state.clone();
    let delete_vpc = mock!(aws_sdk_ec2::Client::delete_vpc).then_compute_response(move |i| {
        mark(&s, "DeleteVpc", i.vpc_id().unwrap_or_default());
        MockResponse::Output(aws_sdk_ec2::operation::delete_vpc::DeleteVpcOutput::builder().build())
    });
    let ec2 = mock_client!(
        aws_sdk_ec2,
        RuleMode::MatchAny,
        [
            &describe_enis,
            &delete_eni,
            &subnets,
            &groups,
            &vpcs,
            &delete_subnet,
            &delete_group,
            &delete_vpc
        ]
    );

    // FSx: the file system's interfaces (FileSystem.NetworkInterfaceIds) and its tasks.
    let fsx_fs = mock!(aws_sdk_fsx::Client::describe_file_systems).then_output(|| {
        aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsOutput::builder()
            .file_systems(
                aws_sdk_fsx::types::FileSystem::builder()
                    .file_system_id(FSX)
                    .network_interface_ids("eni-0f5x00000000001")
                    .network_interface_ids("eni-0f5x00000000002")
                    .build(),
            )
            .build()
    });
    let s = state.clone();
    let task = scenario.fsx_task;
    let tasks = mock!(aws_sdk_fsx::Client::describe_data_repository_tasks).then_compute_response(
        move |_| {
            use aws_sdk_fsx::types::{DataRepositoryTask, DataRepositoryTaskLifecycle as L};
            let mut st = s.lock().unwrap();
            st.log.push("DescribeDataRepositoryTasks".to_owned());
            let mut out = aws_sdk_fsx::operation::describe_data_repository_tasks::DescribeDataRepositoryTasksOutput::builder();
            if let Some(id) = task {
                // EXECUTING until cancelled, then CANCELING once, then CANCELED (FSx API
                // reference, DataRepositoryTask Lifecycle).
                let cancels = st.log.iter().filter(|l| l.starts_with("CancelDataRepositoryTask")).count();
                let polls_since = st
                    .log
                    .iter()
                    .rev()
                    .take_while(|l| !l.starts_with("CancelDataRepositoryTask"))
                    .filter(|l| *l == "DescribeDataRepositoryTasks")
                    .count();
                let lifecycle = match (cancels, polls_since) {
                    (0, _) => L::Executing,
                    (_, 1) => L::Canceling,
                    _ => L::Canceled,
                };
                out = out.data_repository_tasks(
                    DataRepositoryTask::builder()
                        .task_id(id)
                        .lifecycle(lifecycle)
                        .r#type(aws_sdk_fsx::types::DataRepositoryTaskType::Import)
                        .creation_time(DateTime::from_secs(1_700_000_000))
                        .file_system_id(FSX)
                        .build(),
                );
            }
            MockResponse::Output(out.build())
        },
    );
    let s = state.clone();
    let cancel = mock!(aws_sdk_fsx::Client::cancel_data_repository_task).then_compute_response(
        move |i| {
            note(&s, &format!("CancelDataRepositoryTask {}", i.task_id().unwrap_or_default()));
            MockResponse::Output(
                aws_sdk_fsx::operation::cancel_data_repository_task::CancelDataRepositoryTaskOutput::builder()
                    .lifecycle(aws_sdk_fsx::types::DataRepositoryTaskLifecycle::Canceling)
                    .task_id(i.task_id().unwrap_or_default())
                    .build(),
            )
        },
    );
    let fsx = mock_client!(aws_sdk_fsx, RuleMode::MatchAny, [&fsx_fs, &tasks, &cancel]);

    // DataSync: the task's execution transfers until cancelled, is CANCELLING for one look,
    // then ends in ERROR (the API reference's TaskExecutionStatus has no CANCELLED).
    let s = state.clone();
    let transferring = scenario.transferring;
    let executions = mock!(aws_sdk_datasync::Client::list_task_executions).then_compute_response(
        move |_| {
            use aws_sdk_datasync::types::{TaskExecutionListEntry, TaskExecutionStatus as T};
            let mut st = s.lock().unwrap();
            st.log.push("ListTaskExecutions".to_owned());
            let mut out =
                aws_sdk_datasync::operation::list_task_executions::ListTaskExecutionsOutput::builder();
            if transferring {
                let looks_after = st
                    .log
                    .iter()
                    .skip_while(|l| !l.starts_with("CancelTaskExecution"))
                    .filter(|l| *l == "ListTaskExecutions")
                    .count();
                let cancelled = st.log.iter().any(|l| l.starts_with("CancelTaskExecution"));
                let status = match (cancelled, looks_after) {
                    (false, _) => T::Transferring,
                    (true, 1) => T::Cancelling,
                    _ => T::Error,
                };
                out = out.task_executions(
                    TaskExecutionListEntry::builder()
                        .task_execution_arn(format!("{TASK}/execution/exec-0123456789abcdef0"))
                        .status(status)
                        .build(),
                );
            }
            MockResponse::Output(out.build())
        },
    );
    let s = state.clone();
    let cancel_execution = mock!(aws_sdk_datasync::Client::cancel_task_execution)
        .then_compute_response(move |i| {
            note(&s, &format!("CancelTaskExecution {}", i.task_execution_arn().unwrap_or_default()));
            MockResponse::Output(
                aws_sdk_datasync::operation::cancel_task_execution::CancelTaskExecutionOutput::builder()
                    .build(),
            )
        });
    let describe_task = mock!(aws_sdk_datasync::Client::describe_task).then_output(|| {
        aws_sdk_datasync::operation::describe_task::DescribeTaskOutput::builder()
            .task_arn(TASK)
            .destination_network_interface_arns(format!(
                "arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/eni-0d5000000000001"
            ))
            .build()
    });
    let datasync = mock_client!(
        aws_sdk_datasync,
        RuleMode::MatchAny,
        [&executions, &cancel_execution, &describe_task]
    );

    // SageMaker: jobs in the stack's subnet, Stopping for two polls after StopTrainingJob.
    use aws_sdk_sagemaker::types::{TrainingJobStatus, TrainingJobSummary, VpcConfig};
    let jobs = scenario.jobs;
    let s = state.clone();
    let list =
        mock!(aws_sdk_sagemaker::Client::list_training_jobs).then_compute_response(move |input| {
            let st = s.lock().unwrap();
            if input.status_equals() != Some(&TrainingJobStatus::InProgress) {
                return MockResponse::Output(
                    aws_sdk_sagemaker::operation::list_training_jobs::ListTrainingJobsOutput::builder().build(),
                );
            }
            let mut out =
                aws_sdk_sagemaker::operation::list_training_jobs::ListTrainingJobsOutput::builder();
            let stopped = st.log.iter().any(|l| l.starts_with("StopTrainingJob"));
            for name in jobs.iter().filter(|_| !stopped) {
                out = out.training_job_summaries(
                    TrainingJobSummary::builder()
                        .training_job_name(*name)
                        .training_job_arn(format!(
                            "arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/{name}"
                        ))
                        .creation_time(DateTime::from_secs(1_700_000_000))
                        .training_job_status(TrainingJobStatus::InProgress)
                        .build(),
                );
            }
            MockResponse::Output(out.build())
        });
    let s = state.clone();
    let describe_job = mock!(aws_sdk_sagemaker::Client::describe_training_job)
        .then_compute_response(move |i| {
            let mut st = s.lock().unwrap();
            let name = i.training_job_name().unwrap_or_default().to_owned();
            st.log.push(format!("DescribeTrainingJob {name}"));
            let polls_after_stop = st
                .log
                .iter()
                .skip_while(|l| !l.starts_with("StopTrainingJob"))
                .filter(|l| l.starts_with("DescribeTrainingJob"))
                .count();
            // Another team's job runs in a shared subnet with its own role; the stack's jobs
            // use the stack's role and subnet.
            let (role, subnet) = if name.starts_with("other-") {
                ("arn:aws:iam::123456789012:role/other-team", "subnet-0fff0000")
            } else {
                (ROLE, SUBNET)
            };
            // StopTrainingJob: "changes the status of the job to Stopping. After SageMaker
            // stops the job, it sets the status to Stopped" (SageMaker API reference).
            let status = match polls_after_stop {
                0 => TrainingJobStatus::InProgress,
                1 | 2 => TrainingJobStatus::Stopping,
                _ => TrainingJobStatus::Stopped,
            };
            if status == TrainingJobStatus::Stopped {
                st.log.push(format!("{name} is Stopped"));
            }
            MockResponse::Output(
                aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput::builder()
                    .training_job_name(name)
                    .training_job_status(status)
                    .role_arn(role)
                    .vpc_config(
                        VpcConfig::builder()
                            .subnets(subnet)
                            .security_group_ids("sg-0fff0000")
                            .build(),
                    )
                    .build(),
            )
        });
    let s = state.clone();
    let stop =
        mock!(aws_sdk_sagemaker::Client::stop_training_job).then_compute_response(move |i| {
            note(
                &s,
                &format!(
                    "StopTrainingJob {}",
                    i.training_job_name().unwrap_or_default()
                ),
            );
            MockResponse::Output(
                aws_sdk_sagemaker::operation::stop_training_job::StopTrainingJobOutput::builder()
                    .build(),
            )
        });
    let sagemaker = mock_client!(
        aws_sdk_sagemaker,
        RuleMode::MatchAny,
        [&list, &describe_job, &stop]
    );

    let mut aws = Aws::with_cloudformation_and_sagemaker(cfn, sagemaker);
    aws.ec2 = ec2;
    aws.fsx = fsx;
    aws.datasync = datasync;
    // No data kept by earlier deployments (kept.rs has its own tests).
    let no_buckets = mock!(aws_sdk_s3::Client::list_buckets)
        .then_output(|| aws_sdk_s3::operation::list_buckets::ListBucketsOutput::builder().build());
    aws.s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&no_buckets]);
    let no_file_systems = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(|| {
        aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput::builder().build()
    });
    aws.efs = mock_client!(aws_sdk_efs, RuleMode::MatchAny, [&no_file_systems]);
    (aws, state)
}

fn request<'a>(force: bool, progress: &'a Progress) -> DownRequest<'a> {
    DownRequest {
        stack: "demo",
        yes: true,
        force,
        delete_data: false,
        confirm: None,
        wait: WaitSettings::default(),
        sweep: SweepSettings {
            poll: Duration::from_secs(5),
            eni_timeout: Duration::from_secs(20 * 60),
            resource_timeout: Duration::from_secs(15 * 60),
        },
        stall_after: super::STALL_AFTER,
        progress,
    }
}

fn position(log: &[String], prefix: &str) -> Option<usize> {
    log.iter().position(|l| l.starts_with(prefix))
}

/// FSx for Lustre ("automatically created in the same VPC", FSx API reference,
/// FileSystem.NetworkInterfaceIds) and DataSync ("For every task you create, AWS DataSync
/// automatically generates and manages network interfaces", DataSync user guide, network
/// interfaces) hold in-use, requester-managed interfaces until CloudFormation deletes those
/// resources. `down` must delete the stack first and not wait on them before.
#[tokio::test(start_paused = true)]
async fn service_interfaces_go_with_the_stack_and_are_not_waited_for_first() {
    let (aws, state) = world(Scenario {
        after_delete: deleted_cleanly,
        interfaces: |st| {
            if st.deletes == 0 {
                vec![
                    managed("eni-0f5x00000000001", ""),
                    managed("eni-0f5x00000000002", ""),
                    managed("eni-0d5000000000001", ""),
                ]
            } else {
                Vec::new()
            }
        },
        jobs: &[],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: false,
    });
    let progress = Progress::default();
    let outcome = down(&aws, &request(false, &progress), &Recorder::default())
        .await
        .unwrap();
    assert_eq!(outcome.status, "DELETE_COMPLETE");
    let st = state.lock().unwrap();
    let delete = position(&st.log, "DeleteStack").expect("DeleteStack was called");
    if let Some(first_look) = position(&st.log, "DescribeNetworkInterfaces") {
        assert!(
            first_look > delete,
            "interfaces were examined before DeleteStack: {:?}",
            st.log
        );
    }
    assert_eq!(st.deletes, 1, "{:?}", st.log);
    assert!(
        !st.log
            .iter()
            .any(|l| l.starts_with("DeleteNetworkInterface")),
        "{:?}",
        st.log
    );
}

/// A training job's interfaces outlive the job by minutes (no documented description; they
/// carry the job's subnet and security group, the stack's). The first deletion fails on the
/// subnet with CloudFormation's DependencyViolation reason; `down` waits for the interface,
/// bounded and reported, then deletes the subnet and the stack again.
#[tokio::test(start_paused = true)]
async fn a_training_job_interface_is_waited_for_then_the_deletion_is_retried() {
    let (aws, state) = world(Scenario {
        after_delete: subnet_fails_once,
        interfaces: |st| {
            let looks = st
                .log
                .iter()
                .filter(|l| *l == "DescribeNetworkInterfaces")
                .count();
            // Released after three looks (15 s of polling).
            if st.deletes == 1 && looks <= 3 {
                vec![training_job_interface("eni-0a1b000000000001")]
            } else {
                Vec::new()
            }
        },
        jobs: &[],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: false,
    });
    let progress = Progress::default();
    let reporter = Recorder::default();
    let outcome = down(&aws, &request(false, &progress), &reporter)
        .await
        .unwrap();
    assert_eq!(outcome.status, "DELETE_COMPLETE");
    let st = state.lock().unwrap();
    assert_eq!(
        st.deletes, 2,
        "deleted again after the interface went: {:?}",
        st.log
    );
    let looks = st
        .log
        .iter()
        .filter(|l| *l == "DescribeNetworkInterfaces")
        .count();
    assert!(looks >= 4, "waited for the interface: {:?}", st.log);
    assert!(
        st.log
            .iter()
            .any(|l| l == &format!("DeleteSubnet {SUBNET}")),
        "{:?}",
        st.log
    );
    let said = reporter.0.lock().unwrap().join("\n");
    assert!(
        said.contains("waiting for") && said.contains("eni-0a1b000000000001"),
        "{said}"
    );
    assert!(
        said.contains("has dependencies and cannot be deleted"),
        "{said}"
    );
}

/// An instance someone launched in a stack subnet (DescribeNetworkInterfaces: an attachment
/// with InstanceId and InstanceOwnerId of this account, as in the EC2 API reference's
/// example): `down` stops at once, names the instance and how to remove it, touches nothing.
#[tokio::test(start_paused = true)]
async fn an_instance_in_a_stack_subnet_fails_fast_and_is_named() {
    let (aws, state) = world(Scenario {
        after_delete: subnet_fails_once,
        interfaces: |st| {
            if st.deletes == 0 {
                return Vec::new();
            }
            vec![instance_interface()]
        },
        jobs: &[],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: false,
    });
    let progress = Progress::default();
    let err = down(&aws, &request(false, &progress), &Recorder::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DeployError::Blocked { .. }), "{text}");
    assert!(
        text.contains("aws ec2 terminate-instances --instance-ids i-1234567890abcdef0"),
        "{text}"
    );
    assert!(
        text.contains("blocks deleting subnet PrivateSubnet1"),
        "{text}"
    );
    let st = state.lock().unwrap();
    let looks = st
        .log
        .iter()
        .filter(|l| *l == "DescribeNetworkInterfaces")
        .count();
    // One look: by subnet, and by group (EC2 ANDs the filters of one call).
    assert_eq!(
        looks, 2,
        "no waiting on what is not the stack's: {:?}",
        st.log
    );
    assert!(
        !st.log
            .iter()
            .any(|l| l.starts_with("DeleteNetworkInterface") || l.starts_with("DeleteSubnet")),
        "{:?}",
        st.log
    );
    assert_eq!(st.deletes, 1);
}

/// "You cannot delete an FSx for Lustre file system if there are data repository tasks for the
/// file system in the PENDING or EXECUTING states" (FSx API reference, DataRepositoryTask):
/// the running import is cancelled (CancelDataRepositoryTask) and waited for until CANCELED,
/// before DeleteStack.
#[tokio::test(start_paused = true)]
async fn a_running_import_task_is_cancelled_before_the_stack_is_deleted() {
    let (aws, state) = world(Scenario {
        after_delete: deleted_cleanly,
        interfaces: |_| Vec::new(),
        jobs: &[],
        fsx_task: Some("task-0123456789abcdef0"),
        initial: "CREATE_COMPLETE",
        transferring: false,
    });
    let progress = Progress::default();
    down(&aws, &request(false, &progress), &Recorder::default())
        .await
        .unwrap();
    let st = state.lock().unwrap();
    let cancel = position(&st.log, "CancelDataRepositoryTask task-0123456789abcdef0")
        .expect("the task was cancelled");
    let delete = position(&st.log, "DeleteStack").unwrap();
    assert!(cancel < delete, "{:?}", st.log);
    // Waited until it was CANCELED: a look after the CANCELING one, before DeleteStack.
    let looks_between = st.log[cancel..delete]
        .iter()
        .filter(|l| *l == "DescribeDataRepositoryTasks")
        .count();
    assert!(looks_between >= 2, "{:?}", st.log);
    assert!(position(&st.log, "ListTaskExecutions").is_some_and(|p| p < delete));
}

/// `--force` with a running job: StopTrainingJob, then the SDK's TrainingJobCompletedOrStopped
/// waiter until Stopped (SageMaker API reference: Stopping, then Stopped), then DeleteStack.
/// Without `--force` nothing is stopped or deleted.
#[tokio::test(start_paused = true)]
async fn force_stops_the_running_job_and_waits_until_it_is_stopped() {
    let scenario = || Scenario {
        after_delete: deleted_cleanly,
        interfaces: |_| Vec::new(),
        jobs: &["mask-rcnn-tensorpack-1"],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: false,
    };
    let (aws, state) = world(scenario());
    let progress = Progress::default();
    let err = down(&aws, &request(false, &progress), &Recorder::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("mask-rcnn-tensorpack-1") && text.contains("--force"),
        "{text}"
    );
    assert_eq!(state.lock().unwrap().deletes, 0);
    assert_eq!(progress.stage(), super::Stage::Looking);

    let (aws, state) = world(scenario());
    let progress = Progress::default();
    down(&aws, &request(true, &progress), &Recorder::default())
        .await
        .unwrap();
    let st = state.lock().unwrap();
    let stop = position(&st.log, "StopTrainingJob mask-rcnn-tensorpack-1").expect("stopped");
    let stopped = position(&st.log, "mask-rcnn-tensorpack-1 is Stopped").expect("waited");
    let delete = position(&st.log, "DeleteStack").unwrap();
    assert!(stop < stopped && stopped < delete, "{:?}", st.log);
}

/// What an interruption says depends on how far `down` got: nothing changed, work being
/// stopped, CloudFormation deleting, or the sweep (issue 12's "interruptions tell the truth").
#[test]
fn an_interruption_says_what_goes_on_without_down() {
    use super::Stage;
    let progress = Progress::default();
    assert_eq!(progress.stage(), Stage::Looking);
    let said = |stage: Stage| stage.interruption("demo").to_string();
    assert!(said(Stage::Looking).contains("nothing of stack `demo` was stopped or deleted"));
    assert!(!said(Stage::Looking).contains("CloudFormation continues"));
    assert!(said(Stage::StoppingWork).contains("the stack was not deleted"));
    assert!(said(Stage::Deleting).contains("CloudFormation continues the deletion"));
    assert!(said(Stage::Deleting).contains(
        "re-attach (then it removes what is left and reports the kept data):  stackctl down"
    ));
    assert!(said(Stage::Sweeping).contains("finds the deleted stack's resources again"));
    progress.enter(Stage::Deleting);
    assert_eq!(progress.stage(), Stage::Deleting);
}

/// A deletion that stalls on a subnet (CloudFormation keeps retrying a subnet with a dependency
/// for many minutes before DELETE_FAILED): after `stall_after`, `down` looks, finds an instance
/// that is not the stack's, and stops at once, naming it, while CloudFormation goes on.
#[tokio::test(start_paused = true)]
async fn a_stalled_deletion_is_examined_and_a_foreign_instance_stops_down_early() {
    let (aws, state) = world(Scenario {
        after_delete: |n| {
            let stack = "AWS::CloudFormation::Stack";
            (
                "DELETE_IN_PROGRESS",
                vec![
                    event(n, "demo", stack, "DELETE_IN_PROGRESS", "User Initiated"),
                    event(
                        n,
                        "PrivateSubnet1",
                        "AWS::EC2::Subnet",
                        "DELETE_IN_PROGRESS",
                        "",
                    ),
                ],
            )
        },
        interfaces: |st| {
            if st.deletes == 0 {
                Vec::new()
            } else {
                vec![instance_interface()]
            }
        },
        jobs: &[],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: false,
    });
    let progress = Progress::default();
    let started = tokio::time::Instant::now();
    let err = down(&aws, &request(false, &progress), &Recorder::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("i-1234567890abcdef0"), "{text}");
    assert!(
        text.contains("will end the deletion in DELETE_FAILED"),
        "{text}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= super::STALL_AFTER && waited < super::STALL_AFTER + Duration::from_secs(120),
        "looked once the subnet had stalled, then stopped: {waited:?}"
    );
    assert_eq!(progress.stage(), super::Stage::Deleting);
    assert_eq!(state.lock().unwrap().deletes, 1);
}

/// A second `down` while a deletion runs attaches to it: it waits for that deletion (which
/// CloudFormation finishes) and then sweeps and reports as usual.
#[tokio::test(start_paused = true)]
async fn a_second_down_attaches_to_the_deletion_in_progress() {
    let (aws, state) = world(Scenario {
        after_delete: deleted_cleanly,
        interfaces: |_| Vec::new(),
        jobs: &[],
        fsx_task: None,
        initial: "DELETE_IN_PROGRESS",
        transferring: false,
    });
    let progress = Progress::default();
    let reporter = Recorder::default();
    let outcome = down(&aws, &request(false, &progress), &reporter)
        .await
        .unwrap();
    assert_eq!(outcome.status, "DELETE_COMPLETE");
    let said = reporter.0.lock().unwrap().join("\n");
    assert!(said.contains("already being deleted; attaching"), "{said}");
    assert!(
        !said.contains("waiting for that operation first"),
        "a deletion is not waited for as another operation: {said}"
    );
    // Attached: no second DeleteStack for a deletion already running.
    let st = state.lock().unwrap();
    assert!(!st.log.iter().any(|l| l == "DeleteStack"), "{:?}", st.log);
}

/// A DataSync execution of the stack's task holds the EFS location's interfaces: it is
/// cancelled (CancelTaskExecution) and waited for until it has ended, before DeleteStack.
#[tokio::test(start_paused = true)]
async fn a_running_datasync_execution_is_cancelled_before_the_stack_is_deleted() {
    let (aws, state) = world(Scenario {
        after_delete: deleted_cleanly,
        interfaces: |_| Vec::new(),
        jobs: &[],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: true,
    });
    let progress = Progress::default();
    down(&aws, &request(false, &progress), &Recorder::default())
        .await
        .unwrap();
    let st = state.lock().unwrap();
    let cancel = position(&st.log, "CancelTaskExecution").expect("the execution was cancelled");
    let delete = position(&st.log, "DeleteStack").unwrap();
    assert!(cancel < delete, "{:?}", st.log);
    let looks_between = st.log[cancel..delete]
        .iter()
        .filter(|l| *l == "ListTaskExecutions")
        .count();
    assert!(looks_between >= 2, "waited until it ended: {:?}", st.log);
}

/// Another team's job in a shared subnet, with its own role, is not the stack's: `down` neither
/// refuses because of it nor stops it with `--force`.
#[tokio::test(start_paused = true)]
async fn another_teams_job_is_neither_a_reason_to_refuse_nor_stopped() {
    let (aws, state) = world(Scenario {
        after_delete: deleted_cleanly,
        interfaces: |_| Vec::new(),
        jobs: &["other-team-job"],
        fsx_task: None,
        initial: "CREATE_COMPLETE",
        transferring: false,
    });
    let progress = Progress::default();
    down(&aws, &request(true, &progress), &Recorder::default())
        .await
        .unwrap();
    let st = state.lock().unwrap();
    assert!(
        !st.log.iter().any(|l| l.starts_with("StopTrainingJob")),
        "{:?}",
        st.log
    );
    assert_eq!(st.deletes, 1);
}
