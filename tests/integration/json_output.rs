//! `--output json` on every command (issue 12, item 7), through the binary against the
//! emulator: each command's stdout parsed with serde_json (NDJSON: each line), with the shape
//! docs/json-output.md documents (numbers as numbers, times as RFC 3339, absent values null);
//! and what is refused with it (exit 2, the reason, nothing done). A test here compares the
//! commands covered with clap's command tree and the document, so a new command cannot skip
//! either.

use std::sync::Arc;

use clap::CommandFactory;
use serde_json::Value;

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;
use crate::support::fault_proxy::FaultProxy;
use crate::support::{Output, root, stackctl};

/// Every command and subcommand, each exercised with `--output json` by a test below.
const COVERED: &[&str] = &[
    "init",
    "validate",
    "render",
    "plan",
    "up",
    "down",
    "status",
    "doctor",
    "outputs",
    "job submit",
    "job list",
    "job describe",
    "job wait",
    "job logs",
    "job metrics",
    "job render",
    "job stop",
    "data stage",
    "data status",
    "image build",
    "image push",
    "completions",
    "man",
    "schema",
];

/// The only JSON document on stdout of a run that exited 0.
#[track_caller]
fn doc(out: &Output) -> Value {
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let lines = ndjson(out);
    assert_eq!(lines.len(), 1, "one JSON document:\n{}", out.stdout);
    lines.into_iter().next().unwrap()
}

/// Every stdout line, each parsed as JSON.
#[track_caller]
fn ndjson(out: &Output) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect()
}

/// The value of `key` in the object `v`; panics when the key is missing (indexing would give
/// null, hiding a key that is left out instead of null).
#[track_caller]
fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.as_object()
        .and_then(|o| o.get(key))
        .unwrap_or_else(|| panic!("no key `{key}` in {v}"))
}

/// `v` is an RFC 3339 time.
#[track_caller]
fn assert_time(v: &Value) {
    use aws_sdk_sagemaker::primitives::{DateTime, DateTimeFormat};
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("not a time string: {v}"));
    DateTime::from_str(text, DateTimeFormat::DateTime)
        .unwrap_or_else(|e| panic!("`{text}` is not RFC 3339: {e}"));
}

/// `v` is a JSON integer.
#[track_caller]
fn assert_int(v: &Value) {
    assert!(v.is_i64() || v.is_u64(), "not an integer: {v}");
}

/// The exit-2 refusal of `args`: the reason on stderr, the error object on stdout.
#[track_caller]
fn assert_refused(out: &Output, reason: &str) {
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(reason), "{}", out.stderr);
    let err = doc_any(out);
    assert_eq!(
        (get(&err, "ok").clone(), get(&err, "exit_code").clone()),
        (false.into(), 2.into())
    );
    assert!(err["error"].as_str().unwrap().contains(reason), "{err}");
}

/// The only JSON document on stdout, whatever the exit code.
#[track_caller]
fn doc_any(out: &Output) -> Value {
    let lines = ndjson(out);
    assert_eq!(lines.len(), 1, "one JSON document:\n{}", out.stdout);
    lines.into_iter().next().unwrap()
}

fn leaves(cmd: &clap::Command, prefix: &str, into: &mut Vec<String>) {
    for sub in cmd.get_subcommands() {
        let name = format!("{prefix}{}", sub.get_name()).trim().to_owned();
        if sub.has_subcommands() {
            leaves(sub, &format!("{name} "), into);
        } else {
            into.push(name);
        }
    }
}

#[test]
fn every_command_is_covered_here_and_documented() {
    let mut all = Vec::new();
    leaves(&stackctl::cli::Cli::command(), "", &mut all);
    all.sort();
    let mut covered: Vec<String> = COVERED.iter().map(|c| (*c).to_owned()).collect();
    covered.sort();
    assert_eq!(all, covered, "a command without a --output json test here");
    let text = fs_err::read_to_string(root().join("docs/json-output.md")).unwrap();
    for command in COVERED {
        assert!(
            text.contains(&format!("### `stackctl {command}")),
            "docs/json-output.md has no section for `stackctl {command}`"
        );
    }
    let readme = fs_err::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("docs/json-output.md"), "README links it");
}

#[test]
fn file_producing_commands_put_the_text_in_a_string() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let init = doc(&stackctl(d, &["init", "s.yaml", "--output", "json"]));
    assert_eq!(init["path"], "s.yaml");
    assert_eq!(get(&init, "stack_file"), &Value::Null);
    let written = fs_err::read_to_string(d.join("s.yaml")).unwrap();
    assert_eq!(init["bytes"], written.len());
    assert_eq!(init["schema"], "stackctl.schema.json");
    let to_stdout = doc(&stackctl(d, &["init", "-", "--output", "json"]));
    assert_eq!(get(&to_stdout, "path"), &Value::Null);
    assert_eq!(get(&to_stdout, "schema"), &Value::Null);
    assert_eq!(to_stdout["stack_file"], written.as_str());
    // An existing file: the error object, exit 2.
    let again = stackctl(d, &["init", "s.yaml", "--output", "json"]);
    assert_eq!(again.code, 2);
    assert_eq!(doc_any(&again)["exit_code"], 2);

    let valid = doc(&stackctl(d, &["validate", "--output", "json"]));
    assert_eq!(
        (get(&valid, "valid").clone(), get(&valid, "stack").clone()),
        (true.into(), "mask-rcnn".into())
    );

    let render = doc(&stackctl(d, &["render", "--output", "json"]));
    let template = render["template"].as_str().unwrap();
    assert!(
        template.contains("AWSTemplateFormatVersion"),
        "{template:.200}"
    );
    assert_eq!(render["bytes"], template.len());
    assert_int(&render["resources"]);
    assert!(render["resources"].as_u64().unwrap() > 10, "{render}");
    assert_eq!(get(&render, "out"), &Value::Null);
    assert_eq!(render["stack"], "mask-rcnn");
    let to_file = doc(&stackctl(
        d,
        &["render", "--out", "t.yaml", "--output", "json"],
    ));
    assert_eq!(to_file["out"], "t.yaml");
    assert_eq!(get(&to_file, "template"), &Value::Null);
    assert_eq!(fs_err::read_to_string(d.join("t.yaml")).unwrap(), template);

    let plan = doc(&stackctl(d, &["plan", "--offline", "--output", "json"]));
    assert_eq!(plan["preview"]["kind"], "offline");
    assert_int(&plan["template_bytes"]);
    assert_eq!(get(&plan, "account"), &Value::Null);

    let args = [
        "job",
        "render",
        "--model",
        "tensorpack",
        "--image",
        "r/i:1",
        "--output",
        "json",
    ];
    let job = doc(&stackctl(d, &args));
    let manifest = job["manifest"].as_str().unwrap();
    assert!(manifest.contains("kind: MPIJob"), "{manifest}");
    assert_eq!(
        (get(&job, "name").clone(), get(&job, "namespace").clone()),
        ("tensorpack".into(), "kubeflow".into())
    );
    assert_eq!(job["bytes"], manifest.len());
    assert_eq!(get(&job, "out"), &Value::Null);
    let mut to_file = args.to_vec();
    to_file.extend(["--out", "m.yaml"]);
    let job_file = doc(&stackctl(d, &to_file));
    assert_eq!(
        (
            get(&job_file, "out").clone(),
            get(&job_file, "manifest").clone()
        ),
        ("m.yaml".into(), Value::Null)
    );
    assert_eq!(fs_err::read_to_string(d.join("m.yaml")).unwrap(), manifest);

    // What the binary knows: the script and page in strings, the schema as itself.
    let completions = doc(&stackctl(d, &["completions", "bash", "--output", "json"]));
    let script = completions["script"].as_str().unwrap();
    assert!(script.contains("_stackctl()"), "{script:.200}");
    assert_eq!(completions["bytes"], script.len());
    let man = doc(&stackctl(d, &["man", "--output", "json"]));
    assert!(man["page"].as_str().unwrap().starts_with(".ie"), "{man}");
    assert_eq!(
        (get(&man, "dir").clone(), man["pages"].clone()),
        (Value::Null, serde_json::json!(["stackctl.1"]))
    );
    let schema = doc(&stackctl(d, &["schema", "--output", "json"]));
    assert_eq!(schema["schema"]["title"], "stackctl stack file");
    assert_eq!(get(&schema, "out"), &Value::Null);
    let to_file = doc(&stackctl(
        d,
        &["schema", "--out", "s.json", "--output", "json"],
    ));
    assert_eq!(
        (to_file["out"].as_str(), get(&to_file, "schema")),
        (Some("s.json"), &Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stack_and_job_commands_print_json_against_the_emulator() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = Some(&emulator);
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        stackctl_aws(e, d, &all)
    };

    let absent = doc(&run(&["status"]));
    assert_eq!(absent["status"], "ABSENT");
    assert_eq!(
        (
            get(&absent, "id").clone(),
            get(&absent, "resources").clone()
        ),
        (Value::Null, serde_json::json!([]))
    );
    // `outputs` without a stack: the error object only.
    let no_stack = run(&["outputs"]);
    assert_eq!(
        (no_stack.code, doc_any(&no_stack)["exit_code"].clone()),
        (1, 1.into())
    );

    let plan = stackctl_aws(e, d, &["plan", "--output", "json"]);
    let plan = doc(&plan);
    assert_eq!(plan["preview"]["kind"], "create");
    assert_eq!(plan["account"], "123456789012");

    // up: NDJSON, one object per event, the last the result.
    let up = run(&["up", "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let events = ndjson(&up);
    assert!(events.len() > 3, "{}", up.stdout);
    let result = events.last().unwrap();
    assert_eq!(
        (get(result, "event").clone(), get(result, "success").clone()),
        ("result".into(), true.into())
    );
    assert!(
        result["duration_seconds"].is_number() && result["api_calls"].is_u64(),
        "{result}"
    );
    let resource = events
        .iter()
        .find(|v| v["event"] == "resource")
        .expect("a resource event");
    assert_time(&resource["time"]);

    let status = doc(&run(&["status"]));
    assert_eq!(status["status"], "CREATE_COMPLETE");
    assert!(status["termination_protection"].is_boolean());
    assert_eq!(get(&status, "last_failure"), &Value::Null);
    assert!(status["resources"].as_array().unwrap().len() > 10);

    // outputs: --output json means the JSON object; --format json is the same; a format that
    // is not JSON is refused before any AWS call.
    let outputs = doc(&run(&["outputs"]));
    assert!(
        outputs["VpcId"].as_str().unwrap().starts_with("vpc-"),
        "{outputs}"
    );
    assert_eq!(doc(&run(&["outputs", "--format", "json"])), outputs);
    assert_eq!(
        doc(&stackctl_aws(e, d, &["outputs", "--format", "json"])),
        outputs
    );
    assert_refused(
        &run(&["outputs", "--format", "env"]),
        "--output json cannot go with --format env",
    );
    assert_refused(
        &run(&["outputs", "--format", "table"]),
        "--output json cannot go with --format table",
    );
    // No AWS call: the same refusal with no endpoint at all (no stack file read either).
    assert_refused(
        &stackctl_aws(
            None,
            d,
            &[
                "outputs",
                "--format",
                "env",
                "--output",
                "json",
                "--region",
                "xx-none-1",
            ],
        ),
        "use --format json (or leave --format out)",
    );
    let env = stackctl_aws(e, d, &["outputs", "--format", "env"]);
    assert!(env.stdout.contains("export VPC_ID='vpc-"), "{}", env.stdout);

    let doctor = stackctl_aws(e, d, &["doctor", "--output", "json"]);
    let doctor = doc_any(&doctor);
    let findings = doctor["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    // `fix` is there on every finding: a string, or null when nothing needs doing.
    assert!(
        findings
            .iter()
            .all(|f| f.as_object().unwrap().contains_key("fix")
                && (get(f, "fix").is_null() || f["fix"].is_string())),
        "{doctor}"
    );

    let data = doc(&run(&["data", "status"]));
    assert_int(&data["objects"]);
    assert_int(&data["open_multipart_uploads"]);
    // Where the stack has no such part (the emulator's FSx gives no id), null; never missing.
    for part in ["efs", "fsx"] {
        assert!(data.as_object().unwrap().contains_key(part), "{data}");
    }
    assert!(
        data["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["complete"].is_boolean())
    );

    // The checks before launching need the data and the image (jobs.rs stages them).
    crate::jobs::stage_job_inputs(&emulator, d).await;
    // job submit: --dry-run wraps the request; a real one has the ARN and no request.
    let dry = doc(&run(&[
        "job",
        "submit",
        "--model",
        "aws-samples",
        "--name",
        "js-1",
        "--dry-run",
    ]));
    assert_eq!(
        (
            get(&dry, "name").clone(),
            get(&dry, "dry_run").clone(),
            get(&dry, "arn").clone()
        ),
        ("js-1".into(), true.into(), Value::Null)
    );
    assert_eq!(dry["request"]["TrainingJobName"], "js-1");
    assert_eq!(dry["request"]["ResourceConfig"]["InstanceCount"], 4);
    assert!(
        dry["model_uri"]
            .as_str()
            .unwrap()
            .ends_with("/jobs/js-1/output/model.tar.gz"),
        "{dry}"
    );
    let sub = doc(&run(&[
        "job",
        "submit",
        "--model",
        "aws-samples",
        "--name",
        "js-1",
    ]));
    assert!(
        sub["arn"].as_str().unwrap().ends_with(":training-job/js-1"),
        "{sub}"
    );
    assert_eq!(
        (get(&sub, "request").clone(), get(&sub, "dry_run").clone()),
        (Value::Null, false.into())
    );
    assert_eq!(sub["model_uri"], dry["model_uri"]);

    let config = emulator.sdk_config().await;
    let t0 = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        - 60_000;
    crate::jobs::put_logs(
        &config,
        "js-1",
        &[
            ("algo-1", t0, "fastrcnn_losses/box_loss: 0.80"),
            ("algo-2", t0 + 1000, "step 1"),
            ("algo-1", t0 + 2000, "fastrcnn_losses/box_loss: 0.40"),
            ("algo-2", t0 + 3000, "mAP(bbox)/IoU=0.5:0.95: 0.12"),
        ],
    )
    .await;

    // --wait: the submission's line, then the summary's.
    let waited = run(&[
        "job",
        "submit",
        "--model",
        "aws-samples",
        "--name",
        "js-2",
        "--wait",
    ]);
    assert_eq!(waited.code, 0, "{}", waited.stderr);
    let both = ndjson(&waited);
    assert_eq!(both.len(), 2, "{}", waited.stdout);
    assert_eq!(
        (get(&both[0], "name").clone(), get(&both[1], "name").clone()),
        ("js-2".into(), "js-2".into())
    );
    assert_eq!(both[1]["succeeded"], true);

    for summary in [
        doc(&run(&["job", "describe", "js-1"])),
        doc(&run(&["job", "wait", "js-1"])),
    ] {
        assert_eq!(summary["name"], "js-1");
        assert_eq!(summary["status"], "Completed");
        assert_eq!(
            (
                get(&summary, "succeeded").clone(),
                get(&summary, "suspect").clone()
            ),
            (true.into(), false.into())
        );
        assert_int(&summary["instances"]["count"]);
        assert_eq!(summary["instances"]["count"], 4);
        assert_int(&summary["max_run_seconds"]);
        assert_time(&summary["created"]);
        assert!(get(&summary, "failure_reason").is_null(), "{summary}");
        assert!(
            get(&summary, "spot_savings_percent").is_null(),
            "on demand: {summary}"
        );
        assert_eq!(summary["channels"][0]["source_type"], "s3");
        assert!(get(&summary["channels"][0], "file_system_id").is_null());
        assert_eq!(summary["log_group"], "/aws/sagemaker/TrainingJobs");
        assert!(summary["hyperparameters"].is_object());
        assert!(summary["failure_evidence"].as_array().unwrap().is_empty());
    }

    let list = doc(&run(&["job", "list"]));
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{list}");
    for row in rows {
        assert_eq!(row["model"], "aws-samples");
        assert_time(&row["created"]);
        // Seconds are numbers (or null before SageMaker has them), never "1200 s".
        for key in ["training_seconds", "billable_seconds"] {
            assert!(get(row, key).is_null() || row[key].is_i64(), "{key}: {row}");
        }
        assert!(row.as_object().unwrap().contains_key("secondary_status"));
    }

    // logs: one object per event, in time order; --follow of an ended job the same.
    for follow in [false, true] {
        let mut args = vec!["job", "logs", "js-1"];
        if follow {
            args.push("--follow");
        }
        let logs = run(&args);
        assert_eq!(logs.code, 0, "{}", logs.stderr);
        let events = ndjson(&logs);
        assert_eq!(events.len(), 4, "{}", logs.stdout);
        let hosts: Vec<&str> = events.iter().map(|v| v["host"].as_str().unwrap()).collect();
        assert_eq!(hosts, ["algo-1", "algo-2", "algo-1", "algo-2"]);
        assert_eq!(events[0]["message"], "fastrcnn_losses/box_loss: 0.80");
        for event in &events {
            assert_time(&event["time"]);
        }
        assert!(events[0]["time"].as_str() < events[3]["time"].as_str());
    }
    let silent = run(&["job", "logs", "js-2"]);
    assert_eq!(
        (silent.code, silent.stdout.as_str()),
        (0, ""),
        "no events, no lines"
    );

    let metrics = doc(&run(&["job", "metrics", "js-1", "--plot", "m.svg"]));
    assert_eq!(
        (get(&metrics, "job").clone(), get(&metrics, "model").clone()),
        ("js-1".into(), "aws-samples".into())
    );
    assert_eq!(metrics["plot"], "m.svg");
    let box_loss = metrics["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "fastrcnn_losses/box_loss")
        .unwrap_or_else(|| panic!("{metrics}"));
    assert_eq!(
        (
            get(box_loss, "latest").clone(),
            get(box_loss, "count").clone()
        ),
        (0.4.into(), 2.into())
    );
    assert_time(&box_loss["latest_time"]);
    let points = metrics["points"].as_array().unwrap();
    assert_eq!(points.len(), 3, "{metrics}");
    assert_eq!(points[0]["value"], 0.8);
    assert_eq!(points[2]["host"], "algo-2");
    assert_eq!(points[2]["metric"], "mAP(bbox)/IoU=0.5:0.95");
    for p in points {
        assert_time(&p["time"]);
        assert!(p["value"].is_f64());
    }
    let none = doc(&run(&["job", "metrics", "js-2"]));
    assert_eq!(
        (get(&none, "points").clone(), get(&none, "plot").clone()),
        (serde_json::json!([]), Value::Null)
    );

    // moto 5.2.5 answers StopTrainingJob with a 500: the proxy gives the answer the SageMaker
    // API Reference documents instead (StopTrainingJob, Response Elements: "If the action is
    // successful, the service sends back an HTTP 200 response with an empty HTTP body").
    let stopped: crate::support::fault_proxy::Rewrite = Arc::new(|request: &str, body: String| {
        if request.contains("SageMaker.StopTrainingJob") {
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 0\r\n\r\n"
                .to_owned()
        } else {
            body
        }
    });
    let proxy = FaultProxy::start_with(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
        Some(stopped),
    );
    let stop = stackctl_aws(
        None,
        d,
        &[
            "job",
            "stop",
            "js-1",
            "--endpoint-url",
            &proxy.endpoint,
            "--output",
            "json",
        ],
    );
    assert_eq!(
        doc(&stop),
        serde_json::json!({"name": "js-1", "stop_requested": true})
    );

    let down = run(&["down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    let events = ndjson(&down);
    assert_eq!(events.last().unwrap()["event"], "result");
    assert_eq!(events.last().unwrap()["status"], "DELETE_COMPLETE");
    assert_eq!(events.last().unwrap()["success"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn data_and_image_commands_print_json_against_the_emulator() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = Some(&emulator);
    let s3 = aws_sdk_s3::Client::new(&emulator.sdk_config().await);
    s3.create_bucket().bucket("coco").send().await.unwrap();
    crate::data_stage::coco_tree(&d.join("coco"), 3, 2, 1000);
    let staged = doc(&stackctl_aws(
        e,
        d,
        &[
            "data", "stage", "--from", "coco", "--bucket", "coco", "--to", "s3", "--output", "json",
        ],
    ));
    assert_eq!(staged["bucket"], "coco");
    assert_eq!(staged["s3"]["files"], 8);
    assert!(staged["seconds"].is_f64());
    assert_eq!(
        (
            get(&staged, "efs").clone(),
            get(&staged, "fsx").clone(),
            get(&staged, "download").clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );
    let status = doc(&stackctl_aws(
        e,
        d,
        &["data", "status", "--bucket", "coco", "--output", "json"],
    ));
    assert_eq!(status["objects"], 8);
    assert_int(&status["bytes"]);
    assert_eq!(
        (get(&status, "efs").clone(), get(&status, "fsx").clone()),
        (Value::Null, Value::Null)
    );

    // image build/push: the URI, the commands, what happened to the repository.
    let dry = doc(&stackctl_aws(
        e,
        d,
        &[
            "image",
            "push",
            "--model",
            "tensorpack",
            "--dry-run",
            "--output",
            "json",
        ],
    ));
    let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest";
    assert_eq!(dry["image_uri"], uri);
    assert_eq!(
        (get(&dry, "dry_run").clone(), get(&dry, "push").clone()),
        (true.into(), true.into())
    );
    assert_eq!(dry["repository_action"], "would_create");
    let commands = dry["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 4);
    assert_eq!(commands[3], format!("docker push {uri}"));
    let docker = crate::images::fake_docker(d, "never", 0);
    let docker = docker.to_str().unwrap();
    let push = doc(&stackctl_aws(
        e,
        d,
        &[
            "image",
            "push",
            "--model",
            "tensorpack",
            "--docker",
            docker,
            "--output",
            "json",
        ],
    ));
    assert_eq!(
        (
            get(&push, "image_uri").clone(),
            get(&push, "dry_run").clone()
        ),
        (uri.into(), false.into())
    );
    assert_eq!(push["repository_action"], "created");
    assert_eq!(push["tag"], "latest");
    let again = doc(&stackctl_aws(
        e,
        d,
        &[
            "image",
            "push",
            "--model",
            "tensorpack",
            "--docker",
            docker,
            "--output",
            "json",
        ],
    ));
    assert_eq!(again["repository_action"], "exists");
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec![
            "image",
            "build",
            "--model",
            "tensorpack",
            "--docker",
            docker,
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let build = doc(&stackctl_aws(e, d, &args));
        assert_eq!(
            (
                get(&build, "push").clone(),
                get(&build, "repository_action").clone()
            ),
            (false.into(), Value::Null)
        );
        assert_eq!(build["commands"].as_array().unwrap().len(), 2, "{build}");
        assert_eq!(build["image_uri"], uri);
    }
}
