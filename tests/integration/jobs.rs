//! `job submit` against the emulator: the request is built from the stack's outputs, printed
//! exactly with --dry-run, created for real and read back; bad input creates nothing.
//! (The emulator does not echo MetricDefinitions and has no FSx mount name; those paths are
//! covered by the unit tests in src/jobs/.)

use std::path::Path;

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;

/// Small trees in each model's layout (templates/jobs/<model>.yaml, data_layout), by the
/// `data stage` arguments that stage them: Mask R-CNN's COCO tree under the stack's
/// DataPrefix, detectron2's coco/ and object detection's RecordIO folders under their own.
const JOB_DATA: &[(&[&str], &[&str])] = &[
    (
        &[],
        &[
            "train2017/000000000009.jpg",
            "val2017/000000000139.jpg",
            "annotations/instances_train2017.json",
            "annotations/instances_val2017.json",
            "pretrained-models/ImageNet-R50-AlignPadding.npz",
        ],
    ),
    (
        &["--model", "detectron2"],
        &[
            "coco/train2017/000000000009.jpg",
            "coco/val2017/000000000139.jpg",
            "coco/annotations/instances_train2017.json",
            "coco/annotations/instances_val2017.json",
        ],
    ),
    (
        &["--model", "object-detection"],
        &["train/train.rec", "validation/val.rec"],
    ),
];

/// The ECR repositories the profiles' default images name in the stack's account.
const JOB_IMAGES: [&str; 3] = [
    "mask-rcnn-tensorpack",
    "mask-rcnn-aws-samples",
    "detectron2-sagemaker",
];

/// What `job submit` checks before it launches (issue 12, item 4), made real in the emulator
/// for the stack of `dir`: each model's layout staged with `stackctl data stage` (so the check
/// reads data the way it is staged), and the profiles' default images pushed to ECR (a
/// minimal manifest, as `docker push` would leave).
/// An image manifest with no layers: what the emulator's ECR needs to list an image, as a
/// `docker push` would leave it.
pub fn empty_manifest() -> String {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": format!("sha256:{}", "0".repeat(64)),
        },
        "layers": [],
    })
    .to_string()
}

pub async fn stage_job_inputs(emulator: &Emulator, dir: &Path) {
    for (i, (flags, files)) in JOB_DATA.iter().enumerate() {
        let tree = dir.join(format!("job-data-{i}"));
        for rel in *files {
            let body: &[u8] = if rel.ends_with(".json") { b"{}" } else { b"x" };
            crate::support::write(&tree, rel, std::str::from_utf8(body).unwrap());
        }
        let tree = tree.to_string_lossy().into_owned();
        let args = [&["data", "stage", "--to", "s3", "--from", &tree][..], flags].concat();
        let out = stackctl_aws(Some(emulator), dir, &args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
    let ecr = aws_sdk_ecr::Client::new(&emulator.sdk_config().await);
    let manifest = empty_manifest();
    for repository in JOB_IMAGES {
        ecr.create_repository()
            .repository_name(repository)
            .send()
            .await
            .unwrap();
        ecr.put_image()
            .repository_name(repository)
            .image_manifest(&manifest)
            .image_tag("latest")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_builds_the_request_from_the_stack_outputs() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    stage_job_inputs(&emulator, dir.path()).await;
    let outputs = crate::deploy_up::result_of(&up)["outputs"].clone();
    let out = |k: &str| outputs[k].as_str().unwrap().to_owned();

    // --dry-run prints the exact request and creates nothing.
    let dry = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "tensorpack",
            "--data",
            "efs",
            "-p",
            "batch_norm=SyncBN",
            "-p",
            "config:TRAIN.GRADIENT_CLIP=0.36",
            "--name",
            "tp-efs-1",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("estimated cost: at most 12512.00 USD"),
        "{}",
        dry.stderr
    );
    let r: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(r["TrainingJobName"], "tp-efs-1");
    assert_eq!(r["RoleArn"], out("ExecutionRoleArn"));
    let fs = &r["InputDataConfig"][0]["DataSource"]["FileSystemDataSource"];
    assert_eq!(fs["FileSystemId"], out("EfsFileSystemId"));
    assert_eq!(fs["FileSystemType"], "EFS");
    assert_eq!(fs["FileSystemAccessMode"], "ro");
    assert_eq!(fs["DirectoryPath"], "/mask-rcnn/sagemaker/input/train");
    let subnets: Vec<String> = serde_json::from_value(r["VpcConfig"]["Subnets"].clone()).unwrap();
    assert_eq!(subnets.join(","), out("PrivateSubnetIds"));
    assert_eq!(
        r["VpcConfig"]["SecurityGroupIds"][0],
        out("SecurityGroupId")
    );
    assert_eq!(r["HyperParameters"]["batch_norm"], "SyncBN");
    assert_eq!(r["HyperParameters"]["config:TRAIN.GRADIENT_CLIP"], "0.36");
    assert_eq!(r["HyperParameters"]["mode_mask"], "True");
    assert_eq!(
        r["AlgorithmSpecification"]["MetricDefinitions"]
            .as_array()
            .unwrap()
            .len(),
        22
    );
    assert_eq!(
        r["AlgorithmSpecification"]["TrainingImage"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest"
    );
    assert_eq!(r["ResourceConfig"]["InstanceType"], "ml.p3.16xlarge");
    assert_eq!(r["StoppingCondition"]["MaxRuntimeInSeconds"], 400000);
    // On demand nothing is interrupted: no checkpoints to sync.
    assert!(r.get("CheckpointConfig").is_none(), "{r}");
    // Spot: both images save to /opt/ml/checkpoints and resume from it (templates/images/).
    for model in ["tensorpack", "aws-samples"] {
        let spot = stackctl_aws(
            e,
            dir.path(),
            &[
                "job",
                "submit",
                "--model",
                model,
                "--spot",
                "--name",
                "spot-1",
                "--dry-run",
            ],
        );
        assert_eq!(spot.code, 0, "{}", spot.stderr);
        let r: serde_json::Value = serde_json::from_str(&spot.stdout).unwrap();
        assert_eq!(
            r["CheckpointConfig"],
            serde_json::json!({
                "S3Uri": format!("s3://{}/jobs/spot-1/checkpoints", out("DataBucket")),
                "LocalPath": "/opt/ml/checkpoints",
            }),
            "{model}"
        );
    }
    let config = emulator.sdk_config().await;
    let sm = aws_sdk_sagemaker::Client::new(&config);
    assert!(
        sm.list_training_jobs()
            .send()
            .await
            .unwrap()
            .training_job_summaries()
            .is_empty()
    );

    // A real submit, read back.
    let sub = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "aws-samples",
            "--spot",
            "--instance-count",
            "2",
            "--max-run",
            "3600",
            "--name",
            "as-s3-1",
            "-p",
            "batch_size_per_gpu=2",
        ],
    );
    assert_eq!(sub.code, 0, "{}", sub.stderr);
    assert_eq!(sub.stdout.trim(), "as-s3-1");
    let job = sm
        .describe_training_job()
        .training_job_name("as-s3-1")
        .send()
        .await
        .unwrap();
    assert_eq!(job.role_arn(), Some(out("ExecutionRoleArn").as_str()));
    assert_eq!(
        job.algorithm_specification().unwrap().training_image(),
        Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-aws-samples:latest")
    );
    let s3 = job.input_data_config()[0]
        .data_source()
        .unwrap()
        .s3_data_source()
        .unwrap();
    assert_eq!(
        s3.s3_uri(),
        Some(
            format!(
                "s3://{}/mask-rcnn/sagemaker/input/train/",
                out("DataBucket")
            )
            .as_str()
        )
    );
    let rc = job.resource_config().unwrap();
    assert_eq!(
        (rc.instance_count(), rc.volume_size_in_gb()),
        (Some(2), Some(100))
    );
    let stop = job.stopping_condition().unwrap();
    assert_eq!(
        (
            stop.max_runtime_in_seconds(),
            stop.max_wait_time_in_seconds()
        ),
        (Some(3600), Some(7200))
    );
    assert_eq!(job.enable_managed_spot_training(), Some(true));
    // The image resumes from /opt/ml/checkpoints: SageMaker syncs it under the job's prefix.
    let checkpoints = job
        .checkpoint_config()
        .expect("a spot job of a resuming image");
    assert_eq!(
        (checkpoints.s3_uri(), checkpoints.local_path()),
        (
            Some(format!("s3://{}/jobs/as-s3-1/checkpoints", out("DataBucket")).as_str()),
            Some("/opt/ml/checkpoints")
        )
    );
    // SageMaker writes the model to S3OutputPath/NAME/output/model.tar.gz: the documented
    // location, jobs/NAME/output/model.tar.gz, is the real one (issue 12).
    assert_eq!(
        job.output_data_config().unwrap().s3_output_path(),
        Some(format!("s3://{}/jobs", out("DataBucket")).as_str())
    );
    assert!(
        sub.stderr.contains(&format!(
            "the model will be written to s3://{}/jobs/as-s3-1/output/model.tar.gz",
            out("DataBucket")
        )),
        "{}",
        sub.stderr
    );
    // describe: what was asked for, where the data comes from and where the model goes.
    let described = stackctl_aws(e, dir.path(), &["job", "describe", "as-s3-1"]);
    assert_eq!(described.code, 0, "{}", described.stderr);
    for needle in [
        "instances: 2 x ml.".to_owned(),
        "capacity:  managed spot, at most 3600 s of training, 7200 s with waiting for capacity"
            .to_owned(),
        format!(
            "channel:   train <- s3://{}/mask-rcnn/sagemaker/input/train/ (S3Prefix",
            out("DataBucket")
        ),
        "param:     batch_size_per_gpu = 2".to_owned(),
        "started:   ".to_owned(),
        "jobs/as-s3-1/output/model.tar.gz".to_owned(),
    ] {
        assert!(
            described.stdout.contains(&needle),
            "{needle}:\n{}",
            described.stdout
        );
    }
    // Two real commands, not a pipeline.
    assert!(
        sub.stderr.contains("stackctl job wait as-s3-1\n")
            && sub.stderr.contains("stackctl job logs as-s3-1 --follow"),
        "{}",
        sub.stderr
    );
    assert!(!sub.stderr.contains(" | "), "{}", sub.stderr);
    // Two submissions without --name in the same second get different names.
    let twice: Vec<String> = (0..2)
        .map(|_| {
            let o = stackctl_aws(
                e,
                dir.path(),
                &["job", "submit", "--model", "aws-samples", "--spot"],
            );
            assert_eq!(o.code, 0, "{}", o.stderr);
            o.stdout.trim().to_owned()
        })
        .collect();
    assert_ne!(twice[0], twice[1], "default names collide");
    for name in &twice {
        sm.describe_training_job()
            .training_job_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name} was not created: {e}"));
    }
    assert_eq!(job.hyper_parameters().unwrap()["batch_size_per_gpu"], "2");
    assert_eq!(
        job.vpc_config().unwrap().subnets().join(","),
        out("PrivateSubnetIds")
    );
    let tags = sm
        .list_tags()
        .resource_arn(job.training_job_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == Some("stackctl:stack") && t.value() == Some("mask-rcnn"))
    );

    // Bad input: exit 2, every problem named, nothing created.
    let bad = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "tensorpack",
            "-p",
            "lr_shedule=[1]",
            "-p",
            "resnet_arch=resnet152",
            "--max-run",
            "9999999",
            "--name",
            "x_y",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    for needle in [
        "did you mean `lr_schedule`",
        "expected one of resnet50, resnet101",
        "SageMaker allows 1 to 2419200",
        "not a valid training job name",
    ] {
        assert!(bad.stderr.contains(needle), "{needle}:\n{}", bad.stderr);
    }
    // as-s3-1 and the two default-named ones; the bad submission created nothing.
    assert_eq!(
        sm.list_training_jobs()
            .send()
            .await
            .unwrap()
            .training_job_summaries()
            .len(),
        3
    );
}

/// Writes log lines for `job` as SageMaker does: one stream per host.
pub(crate) async fn put_logs(
    config: &aws_config::SdkConfig,
    job: &str,
    lines: &[(&str, i64, &str)],
) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let _ = logs
        .create_log_group()
        .log_group_name("/aws/sagemaker/TrainingJobs")
        .send()
        .await;
    let mut hosts: Vec<&str> = lines.iter().map(|l| l.0).collect();
    hosts.sort();
    hosts.dedup();
    for host in hosts {
        let stream = format!("{job}/{host}-1700000000");
        logs.create_log_stream()
            .log_group_name("/aws/sagemaker/TrainingJobs")
            .log_stream_name(&stream)
            .send()
            .await
            .unwrap();
        let events: Vec<InputLogEvent> = lines
            .iter()
            .filter(|l| l.0 == host)
            .map(|l| {
                InputLogEvent::builder()
                    .timestamp(l.1)
                    .message(l.2)
                    .build()
                    .unwrap()
            })
            .collect();
        logs.put_log_events()
            .log_group_name("/aws/sagemaker/TrainingJobs")
            .log_stream_name(&stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_metrics_wait_and_list_follow_the_jobs_of_the_stack() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    assert_eq!(stackctl_aws(e, dir.path(), &["up", "--yes"]).code, 0);
    stage_job_inputs(&emulator, dir.path()).await;
    for name in ["as-bad", "as-good"] {
        let sub = stackctl_aws(
            e,
            dir.path(),
            &["job", "submit", "--model", "aws-samples", "--name", name],
        );
        assert_eq!(sub.code, 0, "{}", sub.stderr);
    }
    let config = emulator.sdk_config().await;
    // CloudWatch Logs drops events older than 14 days: write them as of a minute ago.
    let t0 = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        - 60_000;
    put_logs(
        &config,
        "as-bad",
        &[
            ("algo-1", t0, "Starting training"),
            ("algo-2", t0 + 1000, "fastrcnn_losses/box_loss: 0.80"),
            ("algo-1", t0 + 2000, "fastrcnn_losses/box_loss: 0.40"),
            ("algo-2", t0 + 3000, "Traceback (most recent call last):"),
            ("algo-1", t0 + 4000, "mAP(bbox)/IoU=0.5:0.95: 0.12"),
        ],
    )
    .await;
    put_logs(
        &config,
        "as-good",
        &[("algo-1", t0, "mAP(segm)/IoU=0.5:0.95: 0.34")],
    )
    .await;

    // Logs: every host, merged in time order, with a host prefix.
    let logs = stackctl_aws(e, dir.path(), &["job", "logs", "as-bad"]);
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    assert_eq!(
        logs.stdout.lines().collect::<Vec<_>>(),
        [
            "[algo-1] Starting training",
            "[algo-2] fastrcnn_losses/box_loss: 0.80",
            "[algo-1] fastrcnn_losses/box_loss: 0.40",
            "[algo-2] Traceback (most recent call last):",
            "[algo-1] mAP(bbox)/IoU=0.5:0.95: 0.12",
        ]
    );

    // --host, --tail, --since (issue 12).
    let host = stackctl_aws(
        e,
        dir.path(),
        &["job", "logs", "as-bad", "--host", "algo-2"],
    );
    assert_eq!(host.code, 0, "{}", host.stderr);
    assert_eq!(
        host.stdout.lines().collect::<Vec<_>>(),
        [
            "[algo-2] fastrcnn_losses/box_loss: 0.80",
            "[algo-2] Traceback (most recent call last):",
        ]
    );
    let tail = stackctl_aws(e, dir.path(), &["job", "logs", "as-bad", "--tail", "2"]);
    assert_eq!(
        tail.stdout.lines().collect::<Vec<_>>(),
        [
            "[algo-2] Traceback (most recent call last):",
            "[algo-1] mAP(bbox)/IoU=0.5:0.95: 0.12",
        ],
        "{}",
        tail.stderr
    );
    let recent = stackctl_aws(e, dir.path(), &["job", "logs", "as-bad", "--since", "10s"]);
    assert_eq!(recent.code, 0, "{}", recent.stderr);
    assert_eq!(recent.stdout, "", "the lines are a minute old");
    assert!(
        recent
            .stderr
            .contains("has no log lines to show for these options"),
        "{}",
        recent.stderr
    );
    let hour = stackctl_aws(e, dir.path(), &["job", "logs", "as-bad", "--since", "1h"]);
    assert_eq!(hour.stdout.lines().count(), 5, "{}", hour.stderr);
    let bad_flag = stackctl_aws(
        e,
        dir.path(),
        &["job", "logs", "as-bad", "--host", "node-1"],
    );
    assert_eq!(bad_flag.code, 2, "{}", bad_flag.stderr);
    assert!(
        bad_flag.stderr.contains("algo-1, algo-2"),
        "{}",
        bad_flag.stderr
    );
    // A job with nothing logged yet says so instead of printing nothing.
    let quiet = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "aws-samples",
            "--name",
            "as-silent",
        ],
    );
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    let none = stackctl_aws(e, dir.path(), &["job", "logs", "as-silent"]);
    assert_eq!(
        (none.code, none.stdout.as_str()),
        (0, ""),
        "{}",
        none.stderr
    );
    assert!(
        none.stderr.contains("has no log streams yet"),
        "{}",
        none.stderr
    );
    let no_metrics = stackctl_aws(e, dir.path(), &["job", "metrics", "as-silent"]);
    assert_eq!(no_metrics.code, 0, "{}", no_metrics.stderr);
    assert!(
        no_metrics
            .stderr
            .contains("has no metric values yet: it has no log streams yet"),
        "{}",
        no_metrics.stderr
    );

    // Metrics: latest values and a plot.
    let metrics = stackctl_aws(
        e,
        dir.path(),
        &["job", "metrics", "as-bad", "--plot", "m.svg"],
    );
    assert_eq!(metrics.code, 0, "{}", metrics.stderr);
    assert!(
        metrics.stdout.contains("fastrcnn_losses/box_loss") && metrics.stdout.contains("0.4"),
        "{}",
        metrics.stdout
    );
    assert!(
        metrics.stdout.contains("mAP(bbox)/IoU=0.5:0.95"),
        "{}",
        metrics.stdout
    );
    let svg = fs_err::read_to_string(dir.path().join("m.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));

    // SageMaker says Completed (the emulator finishes jobs at once), but the logs show a
    // failure: suspect, exit 1, with the lines that show it.
    let bad = stackctl_aws(e, dir.path(), &["job", "wait", "as-bad"]);
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    assert!(
        bad.stdout.contains("status:    Completed"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("SUSPECT") && bad.stdout.contains("[algo-2] Traceback"),
        "{}",
        bad.stdout
    );
    let good = stackctl_aws(e, dir.path(), &["job", "wait", "as-good"]);
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    assert!(
        good.stdout
            .contains("logs:      CloudWatch Logs group /aws/sagemaker/TrainingJobs")
    );

    // list: this stack's jobs with their model.
    let list = stackctl_aws(e, dir.path(), &["job", "list", "--output", "json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&list.stdout).unwrap();
    let mut names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["as-bad", "as-good", "as-silent"]);
    assert!(
        rows.iter()
            .all(|r| r["model"] == "aws-samples" && r["status"] == "Completed")
    );
}

/// The body of the captured request whose `X-Amz-Target` names `operation`.
fn captured_body(
    proxy: &crate::support::fault_proxy::FaultProxy,
    operation: &str,
) -> serde_json::Value {
    let captured = proxy.captured.lock().unwrap();
    let request = captured
        .iter()
        .find(|r| {
            String::from_utf8_lossy(r)
                .to_ascii_lowercase()
                .contains(&format!("sagemaker.{}", operation.to_ascii_lowercase()))
        })
        .unwrap_or_else(|| panic!("no {operation} request was sent"));
    let text = String::from_utf8_lossy(request);
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(body).unwrap()
}

fn seed_metric_definitions() -> serde_json::Value {
    let seed = fs_err::read_to_string(
        crate::support::root().join("tests/fixtures/seed-000-metric-definitions.txt"),
    )
    .unwrap();
    let json: String = seed
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let start = json.find('[').unwrap();
    let end = json.rfind(']').unwrap();
    let list: serde_json::Value = serde_json::from_str(&json[start..=end]).unwrap();
    serde_json::Value::Array(
        list.as_array()
            .unwrap()
            .iter()
            .map(|m| serde_json::json!({"Name": m["Name"], "Regex": m["Regex"]}))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_data_source_read_back_and_the_dry_run_is_what_is_sent() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    stage_job_inputs(&emulator, dir.path()).await;
    let outputs = crate::deploy_up::result_of(&up)["outputs"].clone();
    let out = |k: &str| outputs[k].as_str().unwrap().to_owned();
    let config = emulator.sdk_config().await;
    let sm = aws_sdk_sagemaker::Client::new(&config);

    // Both profiles send the seed's metric definitions exactly (the emulator does not echo
    // them, so the request itself is checked).
    for model in ["tensorpack", "aws-samples"] {
        let dry = stackctl_aws(
            e,
            dir.path(),
            &[
                "job",
                "submit",
                "--model",
                model,
                "--dry-run",
                "--name",
                "m",
            ],
        );
        let r: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
        assert_eq!(
            r["AlgorithmSpecification"]["MetricDefinitions"],
            seed_metric_definitions(),
            "{model}"
        );
    }

    // tensorpack on EFS, through a recording proxy: what is sent equals the dry run.
    let proxy = crate::support::fault_proxy::FaultProxy::start(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
    );
    let args = [
        "job",
        "submit",
        "--model",
        "tensorpack",
        "--data",
        "efs",
        "--name",
        "tp-efs",
        "-p",
        "batch_norm=GN",
        "-p",
        "config:MODE_FPN=True",
        "--instance-type",
        "ml.p3dn.24xlarge",
        "--instance-count",
        "2",
        "--max-run",
        "86400",
    ];
    let dry = stackctl_aws(e, dir.path(), &[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let dry: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    let sent = stackctl_aws(
        None,
        dir.path(),
        &[&args[..], &["--endpoint-url", &proxy.endpoint]].concat(),
    );
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(
        captured_body(&proxy, "CreateTrainingJob"),
        dry,
        "the dry run differs from the request sent"
    );

    let job = sm
        .describe_training_job()
        .training_job_name("tp-efs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        job.algorithm_specification().unwrap().training_image(),
        Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest")
    );
    let rc = job.resource_config().unwrap();
    assert_eq!(
        rc.instance_type().map(|t| t.as_str()),
        Some("ml.p3dn.24xlarge")
    );
    assert_eq!(
        (rc.instance_count(), rc.volume_size_in_gb()),
        (Some(2), Some(100))
    );
    assert_eq!(
        job.stopping_condition().unwrap().max_runtime_in_seconds(),
        Some(86400)
    );
    let hp: std::collections::BTreeMap<String, String> = job
        .hyper_parameters()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    let want: std::collections::BTreeMap<String, String> = [
        ("backbone_weights", "ImageNet-R50-AlignPadding.npz"),
        ("batch_norm", "GN"),
        ("config:MODE_FPN", "True"),
        ("data_train", "coco_train2017"),
        ("data_val", "coco_val2017"),
        ("eval_period", "1"),
        ("images_per_epoch", "120000"),
        ("lr_schedule", "[240000, 320000, 360000]"),
        ("mode_fpn", "True"),
        ("mode_mask", "True"),
        ("resnet_arch", "resnet50"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(hp, want);
    let fs = job.input_data_config()[0]
        .data_source()
        .unwrap()
        .file_system_data_source()
        .unwrap();
    assert_eq!(fs.file_system_type().map(|t| t.as_str()), Some("EFS"));
    assert_eq!(fs.file_system_id(), Some(out("EfsFileSystemId").as_str()));
    assert_eq!(
        fs.directory_path(),
        Some("/mask-rcnn/sagemaker/input/train")
    );
    assert_eq!(fs.file_system_access_mode().map(|m| m.as_str()), Some("ro"));
    assert_eq!(
        job.vpc_config().unwrap().subnets().join(","),
        out("PrivateSubnetIds")
    );
    assert!(job.checkpoint_config().is_none());
    assert_eq!(job.enable_managed_spot_training(), Some(false));
    let tags = sm
        .list_tags()
        .resource_arn(job.training_job_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == Some("stackctl:model") && t.value() == Some("tensorpack"))
    );

    // FSx: the emulator drops FSx from templates, so one is created through the FSx API in the
    // stack's FSx subnet (SCRATCH_1, whose mount name is always `fsx`).
    let fsx = aws_sdk_fsx::Client::new(&config);
    let created = fsx
        .create_file_system()
        .file_system_type(aws_sdk_fsx::types::FileSystemType::Lustre)
        .storage_capacity(1200)
        .subnet_ids(out("FsxSubnetId"))
        .security_group_ids(out("SecurityGroupId"))
        .lustre_configuration(
            aws_sdk_fsx::types::CreateFileSystemLustreConfiguration::builder()
                .deployment_type(aws_sdk_fsx::types::LustreDeploymentType::Scratch1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let fsx_id = created
        .file_system()
        .unwrap()
        .file_system_id()
        .unwrap()
        .to_owned();
    let sub = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "aws-samples",
            "--data",
            "fsx",
            "--file-system-id",
            &fsx_id,
            "--name",
            "as-fsx",
        ],
    );
    assert_eq!(sub.code, 0, "{}", sub.stderr);
    let job = sm
        .describe_training_job()
        .training_job_name("as-fsx")
        .send()
        .await
        .unwrap();
    let fs = job.input_data_config()[0]
        .data_source()
        .unwrap()
        .file_system_data_source()
        .unwrap();
    assert_eq!(fs.file_system_type().map(|t| t.as_str()), Some("FSxLustre"));
    assert_eq!(fs.file_system_id(), Some(fsx_id.as_str()));
    assert_eq!(
        fs.directory_path(),
        Some("/fsx/mask-rcnn/sagemaker/input/train")
    );
    assert_eq!(job.vpc_config().unwrap().subnets(), [out("FsxSubnetId")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_job_inputs_exit_2_with_precise_messages_and_create_nothing() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    assert_eq!(stackctl_aws(e, dir.path(), &["up", "--yes"]).code, 0);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--model", "aws-samples", "-p", "batch_size_per_gpu=5"],
            "`batch_size_per_gpu=5`: out of range: allowed is 1..=4",
        ),
        (
            &["--model", "aws-samples", "-p", "batch_size_per_gpu=0"],
            "out of range: allowed is 1..=4",
        ),
        (
            &["--model", "tensorpack", "-p", "batch_size_per_gpu=2"],
            "unknown hyperparameter `batch_size_per_gpu`",
        ),
        (
            &["--model", "tensorpack", "-p", "lr_shedule=[1, 2]"],
            "did you mean `lr_schedule`?",
        ),
        (
            &["--model", "tensorpack", "-p", "batch_norm=BN"],
            "expected one of FreezeBN, SyncBN, GN, None",
        ),
        (
            &["--model", "tensorpack", "-p", "resnet_arch=resnet18"],
            "expected one of resnet50, resnet101",
        ),
        (
            &["--model", "tensorpack", "-p", "mode_fpn=true"],
            "expected True or False",
        ),
        (
            &["--model", "tensorpack", "-p", "eval_period=0"],
            "`eval_period=0`: out of range",
        ),
        (
            &["--model", "tensorpack", "-p", "eval_period=one"],
            "expected an integer",
        ),
        (
            &["--model", "tensorpack", "-p", "lr_schedule=[3, 2, 1]"],
            "expected increasing positive integers",
        ),
        (
            &[
                "--model",
                "aws-samples",
                "-p",
                "lr_epoch_schedule=[(16, 0.1)]",
            ],
            "expected [(epoch, rate), ..., (last epoch, None)]",
        ),
        (
            &["--model", "aws-samples", "-p", "data_val=val2017"],
            "unknown hyperparameter `data_val`",
        ),
        (
            &["--model", "tensorpack", "-p", "config:=1"],
            "a config key is letters, digits",
        ),
        (
            &["--model", "tensorpack", "-p", "data_train="],
            "expected a non-empty value",
        ),
        (
            &["--model", "tensorpack", "--spot", "--max-wait", "100"],
            "MaxWaitTimeInSeconds >= MaxRuntimeInSeconds",
        ),
        (
            &["--model", "tensorpack", "--max-run", "2419201"],
            "SageMaker allows 1 to 2419200",
        ),
        (
            &[
                "--model",
                "tensorpack",
                "--name",
                "a-name-that-is-far-too-long-for-sagemaker-training-jobs-0123456789",
            ],
            "not a valid training job name",
        ),
        (
            &["--model", "tensorpack", "--name", "under_score"],
            "not a valid training job name",
        ),
        (
            &["--model", "tensorpack", "--instance-count", "0"],
            "instance count 0",
        ),
        (
            &["--model", "tensorpack", "--data", "fsx"],
            "has no FSx for Lustre file system (no FsxFileSystemId output); set `fsx.enabled: true` in the stack file and run `stackctl up`",
        ),
        (
            &["--model", "tensorpack", "-p", "novalue"],
            "is not KEY=VALUE",
        ),
        (&["--model", "mxnet"], "invalid value 'mxnet'"),
    ];
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for (args, says) in cases {
        let out = stackctl_aws(e, dir.path(), &[&["job", "submit"][..], args].concat());
        if out.code != 2 || !out.stderr.contains(says) {
            failures.push(format!(
                "{args:?}: want exit 2 and `{says}`, got {}:\n{}",
                out.code, out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let config = emulator.sdk_config().await;
    let sm = aws_sdk_sagemaker::Client::new(&config);
    assert!(
        sm.list_training_jobs()
            .send()
            .await
            .unwrap()
            .training_job_summaries()
            .is_empty(),
        "no job was created"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_follow_merges_four_hosts_and_picks_up_a_late_stream() {
    use std::io::{BufRead, BufReader};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    assert_eq!(stackctl_aws(e, dir.path(), &["up", "--yes"]).code, 0);
    stage_job_inputs(&emulator, dir.path()).await;
    assert_eq!(
        stackctl_aws(
            e,
            dir.path(),
            &[
                "job",
                "submit",
                "--model",
                "tensorpack",
                "--name",
                "tp-follow"
            ]
        )
        .code,
        0
    );
    let config = emulator.sdk_config().await;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let t0 = now - 60_000;
    put_logs(
        &config,
        "tp-follow",
        &[
            ("algo-3", t0 + 3, "host 3 up"),
            ("algo-1", t0 + 1, "host 1 up"),
            ("algo-2", t0 + 2, "host 2 up"),
            ("algo-1", t0 + 4, "step 1"),
        ],
    )
    .await;

    // The emulator completes jobs at once; the proxy reports this one in progress until the
    // test says otherwise, so `--follow` keeps reading.
    let running = Arc::new(AtomicBool::new(true));
    let rewrite = in_progress_while(running.clone());
    let proxy = crate::support::fault_proxy::FaultProxy::start_with(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
        Some(rewrite),
    );
    let mut child = crate::support::spawn_stackctl(
        dir.path(),
        &[
            "job",
            "logs",
            "tp-follow",
            "--follow",
            "--endpoint-url",
            &proxy.endpoint,
        ],
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "logs ended early: {seen:?}"
        );
        seen.push(line.trim_end().to_owned());
    }
    // A fourth host starts logging after --follow began; then the job ends.
    put_logs(
        &config,
        "tp-follow",
        &[
            ("algo-4", now - 1000, "host 4 up"),
            ("algo-4", now - 500, "step 2"),
        ],
    )
    .await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.put_log_events()
        .log_group_name("/aws/sagemaker/TrainingJobs")
        .log_stream_name("tp-follow/algo-1-1700000000")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now - 400)
                .message("step 3")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(6));
    running.store(false, Ordering::SeqCst);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    seen.extend(rest.lines().map(str::to_owned));
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        seen,
        [
            "[algo-1] host 1 up",
            "[algo-2] host 2 up",
            "[algo-3] host 3 up",
            "[algo-1] step 1",
            "[algo-4] host 4 up",
            "[algo-4] step 2",
            "[algo-1] step 3",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_wait_says_the_job_keeps_running() {
    use std::io::{BufRead, BufReader};
    use std::sync::Arc;

    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    assert_eq!(stackctl_aws(e, dir.path(), &["up", "--yes"]).code, 0);
    stage_job_inputs(&emulator, dir.path()).await;
    assert_eq!(
        stackctl_aws(
            e,
            dir.path(),
            &[
                "job",
                "submit",
                "--model",
                "tensorpack",
                "--name",
                "tp-wait"
            ]
        )
        .code,
        0
    );
    let rewrite = in_progress_while(Arc::new(std::sync::atomic::AtomicBool::new(true)));
    let proxy = crate::support::fault_proxy::FaultProxy::start_with(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
        Some(rewrite),
    );
    let mut child = crate::support::spawn_stackctl(
        dir.path(),
        &["job", "wait", "tp-wait", "--endpoint-url", &proxy.endpoint],
    );
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // The stack-file line (issue 12), then the first status line.
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("using stack "), "{first}");
    first.clear();
    stderr.read_line(&mut first).unwrap();
    assert!(first.contains(" s  "), "a status line first: {first}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    // One interruption error (issue 13): what keeps running, and the exact commands, with
    // this run's --endpoint-url so they reach the same endpoint.
    let g = format!("stackctl --endpoint-url {}", proxy.endpoint);
    for needle in [
        "interrupted while waiting for training job `tp-wait`: the training job keeps running on SageMaker".to_owned(),
        format!("re-attach:  {g} job wait tp-wait"),
        format!("stop it:    {g} job stop tp-wait"),
    ] {
        assert!(rest.contains(&needle), "{needle}:\n{rest}");
    }
}

/// A proxy rewrite that reports every training job InProgress while `flag` is set (the
/// emulator completes jobs at once).
fn in_progress_while(
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> crate::support::fault_proxy::Rewrite {
    std::sync::Arc::new(move |request: &str, body: String| {
        if flag.load(std::sync::atomic::Ordering::SeqCst)
            && request.contains("SageMaker.DescribeTrainingJob")
        {
            body.replace(
                "\"TrainingJobStatus\": \"Completed\"",
                "\"TrainingJobStatus\": \"InProgress\"",
            )
        } else {
            body
        }
    })
}

/// `job submit` checks before it launches (issue 12, item 4): on AWS a job without its data or
/// image fails only after its instances were provisioned and billed. An empty prefix exits 2
/// naming every missing path and the command that stages them, with `--dry-run` too; so does
/// a missing image once the data check is skipped; staged, the checks pass and say so; one
/// missing file is named alone. Nothing is created by a refused submission.
#[tokio::test(flavor = "multi_thread")]
async fn submit_checks_the_data_and_the_image_before_it_launches() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let bucket = crate::deploy_up::result_of(&up)["outputs"]["DataBucket"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("s3://{bucket}/mask-rcnn/sagemaker/input/train/");
    let submit = |extra: &[&str]| {
        let args = [
            &["job", "submit", "--model", "tensorpack", "--name", "chk-1"][..],
            extra,
        ]
        .concat();
        stackctl_aws(e, dir.path(), &args)
    };

    for extra in [&[][..], &["--dry-run"]] {
        let empty = submit(extra);
        assert_eq!(empty.code, 2, "{extra:?}: {}", empty.stderr);
        assert!(empty.stdout.is_empty(), "{extra:?}: {}", empty.stdout);
        for needle in [
            format!("{url} does not hold the tensorpack layout"),
            "missing file `annotations/instances_train2017.json`".to_owned(),
            "missing file `annotations/instances_val2017.json`".to_owned(),
            "missing file `pretrained-models/ImageNet-R50-AlignPadding.npz`".to_owned(),
            "missing folder `train2017/`".to_owned(),
            "missing folder `val2017/`".to_owned(),
            "fix: stage it with `stackctl data stage --from DIR`".to_owned(),
            "--skip-data-check".to_owned(),
        ] {
            assert!(
                empty.stderr.contains(&needle),
                "{extra:?}: {needle}:\n{}",
                empty.stderr
            );
        }
    }
    // Data staged by other means: the data check is skipped, the image is still looked up.
    let no_image = submit(&["--skip-data-check", "--dry-run"]);
    assert_eq!(no_image.code, 2, "{}", no_image.stderr);
    assert!(
        no_image.stderr.contains(
            "tensorpack: repository mask-rcnn-tensorpack does not exist in registry 123456789012"
        ) && no_image
            .stderr
            .contains("fix: push it with `stackctl image push --model tensorpack`"),
        "{}",
        no_image.stderr
    );
    assert!(
        !no_image.stderr.contains("does not hold"),
        "{}",
        no_image.stderr
    );

    // A model with its own prefix and layout is told to stage with its --model.
    let detectron2 = stackctl_aws(
        e,
        dir.path(),
        &["job", "submit", "--model", "detectron2", "--dry-run"],
    );
    assert_eq!(detectron2.code, 2, "{}", detectron2.stderr);
    for needle in [
        format!("s3://{bucket}/detectron2/ does not hold the detectron2 layout"),
        "missing file `coco/annotations/instances_train2017.json`".to_owned(),
        "missing folder `coco/train2017/`".to_owned(),
        "fix: stage it with `stackctl data stage --model detectron2 --from DIR`".to_owned(),
    ] {
        assert!(
            detectron2.stderr.contains(&needle),
            "{needle}:\n{}",
            detectron2.stderr
        );
    }

    stage_job_inputs(&emulator, dir.path()).await;
    let dry = submit(&["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    for needle in [
        format!("dry run, checked as a submission would be: ok data: {url} holds the tensorpack layout (5 objects)"),
        "dry run, checked as a submission would be: ok image: tensorpack: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest exists".to_owned(),
        // moto has no SageMaker quotas: a quota that cannot be read is a warning.
        "dry run, checked as a submission would be: warn quota.training:".to_owned(),
    ] {
        assert!(dry.stderr.contains(&needle), "{needle}:\n{}", dry.stderr);
    }
    // EFS: its files cannot be listed; the S3 source is checked and the rest is said.
    let efs = submit(&["--data", "efs", "--dry-run"]);
    assert_eq!(efs.code, 0, "{}", efs.stderr);
    assert!(
        efs.stderr.contains(&format!("ok data: {url} (the source the stack's DataSync task copies to EFS) holds the tensorpack layout"))
            && efs.stderr.contains("cannot check data.efs: EFS fs-")
            && efs.stderr.contains("no AWS API lists the files of a file system, and the stack has no DataSync task"),
        "{}",
        efs.stderr
    );

    // One file gone: it alone is named.
    let s3 = emulator.s3().await;
    s3.delete_object()
        .bucket(&bucket)
        .key("mask-rcnn/sagemaker/input/train/annotations/instances_val2017.json")
        .send()
        .await
        .unwrap();
    let one = submit(&[]);
    assert_eq!(one.code, 2, "{}", one.stderr);
    assert!(
        one.stderr.contains(&format!(
            "{url} does not hold the tensorpack layout:\n    missing file `annotations/instances_val2017.json`\n  fix:"
        )),
        "{}",
        one.stderr
    );
    let sm = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
    assert!(
        sm.list_training_jobs()
            .send()
            .await
            .unwrap()
            .training_job_summaries()
            .is_empty(),
        "a refused submission created a job"
    );
    // The checks passed, the job is launched, and the checks are named.
    let ok = submit(&["--skip-data-check"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stderr
            .contains("checked before launching: cannot check data: skipped (--skip-data-check)"),
        "{}",
        ok.stderr
    );
    assert_eq!(ok.stdout.trim(), "chk-1");
}

/// The demo's training sample (scripts/demo/tensorpack-logs.py, issue 13 item 7) read back as
/// `job logs` and `job metrics` read a real job's: two hosts merged in time order, all 22 of the
/// tensorpack profile's metrics parsed, and a plot written.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_sample_shows_merged_hosts_and_all_metrics() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    assert_eq!(stackctl_aws(e, dir.path(), &["up", "--yes"]).code, 0);
    stage_job_inputs(&emulator, dir.path()).await;
    let submit = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "tensorpack",
            "--name",
            "sample-1",
        ],
    );
    assert_eq!(submit.code, 0, "{}", submit.stderr);
    let feed = std::process::Command::new(crate::support::dev_tool("python"))
        .arg(crate::support::root().join("scripts/demo/tensorpack-logs.py"))
        .args(["sample-1", "us-east-1", &emulator.endpoint])
        .output()
        .unwrap();
    assert!(
        feed.status.success(),
        "{}",
        String::from_utf8_lossy(&feed.stderr)
    );
    assert!(String::from_utf8_lossy(&feed.stdout).contains("recorded-format SAMPLE"));

    let logs = stackctl_aws(e, dir.path(), &["job", "logs", "sample-1"]);
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    let lines: Vec<&str> = logs.stdout.lines().collect();
    let hosts: Vec<&str> = lines.iter().map(|l| &l[..8]).collect();
    assert!(
        hosts.contains(&"[algo-1]") && hosts.contains(&"[algo-2]"),
        "{}",
        logs.stdout
    );
    // Merged, not one host after the other: algo-2's lines sit between algo-1's.
    let first_2 = hosts.iter().position(|h| *h == "[algo-2]").unwrap();
    let last_1 = hosts.iter().rposition(|h| *h == "[algo-1]").unwrap();
    assert!(first_2 < last_1, "{}", logs.stdout);
    // In time order: tensorpack's own stamps (`[MMDD HH:MM:SS @...`) never go back.
    let stamps: Vec<&str> = lines.iter().map(|l| &l[9..24]).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");

    let plot = dir.path().join("m.svg");
    let metrics = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "metrics",
            "sample-1",
            "--plot",
            plot.to_str().unwrap(),
            "--output",
            "json",
        ],
    );
    assert_eq!(metrics.code, 0, "{}", metrics.stderr);
    let doc: serde_json::Value = serde_json::from_str(metrics.stdout.trim()).unwrap();
    let latest = doc["metrics"].as_array().unwrap_or_else(|| panic!("{doc}"));
    let profile =
        fs_err::read_to_string(crate::support::root().join("templates/jobs/tensorpack.yaml"))
            .unwrap();
    let defined = profile.matches("  - name: \"").count();
    assert_eq!(defined, 22);
    assert_eq!(latest.len(), defined, "{doc}");
    let svg = fs_err::read_to_string(&plot).unwrap();
    assert!(svg.contains("mAP(segm)/small (algo-1)") && svg.contains("<circle"));
}
