//! `stackctl up`, `outputs` and `status` against the emulator, through the binary as a user
//! runs it (no terminal, so confirmations need --yes).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::emulator::Emulator;
use crate::support::{Output, write};

/// Runs stackctl against `emulator` with test credentials and no AWS settings inherited.
pub fn stackctl_aws(emulator: Option<&Emulator>, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackctl"));
    cmd.args(args).current_dir(dir);
    for var in [
        "STACKCTL_STACK",
        "STACKCTL_TEMPLATES",
        "STACKCTL_OUTPUT",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        );
    if let Some(e) = emulator {
        cmd.args(["--endpoint-url", &e.endpoint]);
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("stackctl runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `result` object of an NDJSON run.
pub fn result_of(out: &Output) -> serde_json::Value {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "result")
        .unwrap_or_else(|| panic!("no result line in:\n{}\n{}", out.stdout, out.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn up_creates_then_skips_then_updates_through_a_change_set() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);

    // Without a terminal, a plan that adds IAM needs --yes: exit 2 and nothing created.
    let refused = stackctl_aws(e, dir.path(), &["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    let status = stackctl_aws(e, dir.path(), &["status", "--output", "json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&status.stdout).unwrap()["status"],
        "ABSENT"
    );

    // plan previews against the (absent) stack: changes, exit 3 with --detailed-exitcode.
    let plan = stackctl_aws(
        e,
        dir.path(),
        &["plan", "--detailed-exitcode", "--output", "json"],
    );
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(doc["preview"]["kind"], "create");
    assert!(doc["cost_estimate"]["hourly_total"].as_f64().unwrap() > 0.0);

    let created = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(created.code, 0, "{}{}", created.stdout, created.stderr);
    let result = result_of(&created);
    assert_eq!(result["status"], "CREATE_COMPLETE");
    assert!(
        created
            .stdout
            .lines()
            .any(|l| l.contains("\"event\":\"change_set\""))
    );
    let outputs: BTreeMap<String, String> =
        serde_json::from_value(result["outputs"].clone()).unwrap();
    assert!(outputs["VpcId"].starts_with("vpc-"), "{outputs:?}");

    // The resources are there.
    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(&outputs["VpcId"])
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    let efs = aws_sdk_efs::Client::new(&config);
    let fs = efs
        .describe_file_systems()
        .file_system_id(&outputs["EfsFileSystemId"])
        .send()
        .await
        .unwrap();
    assert_eq!(fs.file_systems().len(), 1);

    // A second up changes nothing and makes at most 3 API calls.
    let again = stackctl_aws(e, dir.path(), &["up", "--output", "json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let result = result_of(&again);
    assert_eq!(result["status"], "NO_CHANGES");
    assert!(result["api_calls"].as_u64().unwrap() <= 3, "{result}");

    let plan = stackctl_aws(e, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stdout.contains("Changes: none"), "{}", plan.stdout);

    // outputs as env lines and JSON.
    let env = stackctl_aws(e, dir.path(), &["outputs", "--format", "env"]);
    assert_eq!(env.code, 0, "{}", env.stderr);
    assert!(
        env.stdout
            .contains(&format!("export VPC_ID='{}'", outputs["VpcId"])),
        "{}",
        env.stdout
    );
    for line in env.stdout.lines() {
        assert!(line.starts_with("export ") && line.contains("='"), "{line}");
    }
    let json = stackctl_aws(e, dir.path(), &["outputs", "--format", "json"]);
    let parsed: BTreeMap<String, String> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed, outputs);

    // An update goes through a change set.
    write(
        dir.path(),
        "bigger.yaml",
        "name: mask-rcnn\nnotebook:\n  volume_gib: 300\n",
    );
    let updated = stackctl_aws(
        e,
        dir.path(),
        &["up", "--stack", "bigger.yaml", "--yes", "--output", "json"],
    );
    assert_eq!(updated.code, 0, "{}{}", updated.stdout, updated.stderr);
    assert_eq!(result_of(&updated)["status"], "UPDATE_COMPLETE");
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let template = cfn
        .get_template()
        .stack_name("mask-rcnn")
        .send()
        .await
        .unwrap();
    assert!(
        template
            .template_body()
            .unwrap()
            .contains("VolumeSizeInGB: 300")
    );
    let sets = cfn
        .list_change_sets()
        .stack_name("mask-rcnn")
        .send()
        .await
        .unwrap();
    assert!(!sets.summaries().is_empty(), "the update used a change set");

    // status shows the stack and its resources.
    let status = stackctl_aws(e, dir.path(), &["status", "--stack", "bigger.yaml"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("UPDATE_COMPLETE") && status.stdout.contains("NotebookInstance")
    );
}

#[test]
fn no_region_and_unreachable_endpoints_exit_4_before_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackctl"));
    let out = cmd
        .args(["outputs"])
        .current_dir(dir.path())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no AWS region"));

    // A closed port: connection refused, after the SDK's retries.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = stackctl_aws(
        None,
        dir.path(),
        &[
            "status",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ],
    );
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn termination_protection_is_set_by_up_and_explained_by_down() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--termination-protection"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let config = emulator.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = cfn
        .describe_stacks()
        .stack_name("mask-rcnn")
        .send()
        .await
        .unwrap()
        .stacks
        .unwrap()
        .remove(0);
    assert_eq!(stack.enable_termination_protection(), Some(true));

    let down = stackctl_aws(e, dir.path(), &["down", "--yes"]);
    assert_eq!(down.code, 1, "{}", down.stderr);
    assert!(
        down.stderr.contains("termination protection is on")
            && down.stderr.contains("update-termination-protection --no-enable-termination-protection --stack-name mask-rcnn"),
        "{}",
        down.stderr
    );
    // Nothing was deleted.
    let stack = cfn
        .describe_stacks()
        .stack_name("mask-rcnn")
        .send()
        .await
        .unwrap()
        .stacks
        .unwrap()
        .remove(0);
    assert_eq!(stack.stack_status().unwrap().as_str(), "CREATE_COMPLETE");
}

/// The README's Use section literally: `init`, edit, `up` in that directory deploys the file's
/// stack (not the embedded default's), and `plan`, `up` and `down` say where they act (account,
/// region, endpoint, stack) before they ask, and in their JSON result.
#[tokio::test(flavor = "multi_thread")]
async fn init_then_up_here_deploys_the_files_stack_and_says_where() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let init = stackctl_aws(None, dir.path(), &["init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let path = dir.path().join("stackctl.yaml");
    let text = fs_err::read_to_string(&path).unwrap();
    fs_err::write(
        &path,
        text.replacen("name: mask-rcnn", "name: team-a-rcnn", 1),
    )
    .unwrap();
    let place = format!(
        "account 123456789012, region us-east-1, endpoint {}, stack `team-a-rcnn`",
        emulator.endpoint
    );
    let check_target = |v: &serde_json::Value| {
        assert_eq!(v["account"], "123456789012", "{v}");
        assert_eq!(v["region"], "us-east-1", "{v}");
        assert_eq!(v["endpoint"], emulator.endpoint.as_str(), "{v}");
        assert_eq!(v["stack"], "team-a-rcnn", "{v}");
    };

    let plan = stackctl_aws(e, dir.path(), &["plan", "--output", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    check_target(&serde_json::from_str(&plan.stdout).unwrap());
    assert!(
        plan.stderr.contains(&format!("plan: {place}")),
        "{}",
        plan.stderr
    );

    // Without --yes and a terminal, up refuses the IAM changes; where it would act comes
    // first, before the plan and the refusal (on a terminal: the question).
    let refused = stackctl_aws(e, dir.path(), &["up"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let err = &refused.stderr;
    assert!(
        err.contains("using stack `team-a-rcnn` from ./stackctl.yaml"),
        "{err}"
    );
    let at = err
        .find(&format!("up: {place}"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(at < err.find("creates ").unwrap(), "{err}");
    assert!(
        at < err.find("needs confirmation on a terminal").unwrap(),
        "{err}"
    );

    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let events: Vec<serde_json::Value> = up
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    let target_at = events.iter().position(|v| v["event"] == "target").unwrap();
    check_target(&events[target_at]);
    assert!(
        target_at
            < events
                .iter()
                .position(|v| v["event"] == "change_set")
                .unwrap()
    );
    let result = result_of(&up);
    check_target(&result);
    assert_eq!(result["status"], "CREATE_COMPLETE");

    // The file's stack is the one that exists; the default's does not.
    let config = emulator.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    assert!(
        cfn.describe_stacks()
            .stack_name("team-a-rcnn")
            .send()
            .await
            .is_ok()
    );
    assert!(
        cfn.describe_stacks()
            .stack_name("mask-rcnn")
            .send()
            .await
            .is_err()
    );
    let status = stackctl_aws(e, dir.path(), &["status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);

    let refused = stackctl_aws(e, dir.path(), &["down"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let err = &refused.stderr;
    let at = err
        .find(&format!("down: {place}"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        at < err.find("needs confirmation on a terminal").unwrap(),
        "{err}"
    );
    let down = stackctl_aws(e, dir.path(), &["down", "--yes", "--output", "json"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    let result = result_of(&down);
    check_target(&result);
    assert_eq!(result["status"], "DELETE_COMPLETE");
}
