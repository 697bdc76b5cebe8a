//! `job submit` for the other seed systems against the emulator: Detectron2 (seed 003) and the
//! built-in object detection algorithm on managed spot (seed 004). Requests are created for
//! real and read back field by field; bad inputs exit 2 and create nothing.

use crate::deploy_up::{result_of, stackctl_aws};
use crate::support::emulator::Emulator;

#[tokio::test(flavor = "multi_thread")]
async fn detectron2_and_object_detection_jobs_read_back_field_by_field() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    crate::jobs::stage_job_inputs(&emulator, dir.path()).await;
    let outputs = result_of(&up)["outputs"].clone();
    let out = |k: &str| outputs[k].as_str().unwrap().to_owned();
    let sm = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);

    // Object detection: the profile's defaults (seed 004), spot without asking.
    let od = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "object-detection",
            "--name",
            "od-1",
        ],
    );
    assert_eq!(od.code, 0, "{}", od.stderr);
    let job = sm
        .describe_training_job()
        .training_job_name("od-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        job.algorithm_specification().unwrap().training_image(),
        Some("811284229777.dkr.ecr.us-east-1.amazonaws.com/object-detection:1")
    );
    let channels: Vec<(String, String, String)> = job
        .input_data_config()
        .iter()
        .map(|c| {
            let s3 = c.data_source().unwrap().s3_data_source().unwrap();
            (
                c.channel_name().unwrap().to_owned(),
                s3.s3_uri().unwrap().to_owned(),
                c.content_type().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bucket = out("DataBucket");
    assert_eq!(
        channels,
        [
            (
                "train".to_owned(),
                format!("s3://{bucket}/object-detection/pascal-voc/train/"),
                "application/x-recordio".to_owned()
            ),
            (
                "validation".to_owned(),
                format!("s3://{bucket}/object-detection/pascal-voc/validation/"),
                "application/x-recordio".to_owned()
            ),
        ]
    );
    let rc = job.resource_config().unwrap();
    assert_eq!(
        rc.instance_type().map(|t| t.as_str()),
        Some("ml.p3.2xlarge")
    );
    assert_eq!(
        (rc.instance_count(), rc.volume_size_in_gb()),
        (Some(1), Some(50))
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
    assert!(
        job.checkpoint_config().is_none(),
        "the algorithm writes no checkpoints"
    );
    let hp = job.hyper_parameters().unwrap();
    let expected = [
        ("base_network", "resnet-50"),
        ("use_pretrained_model", "1"),
        ("num_classes", "20"),
        ("mini_batch_size", "32"),
        ("epochs", "1"),
        ("learning_rate", "0.001"),
        ("lr_scheduler_step", "3,6"),
        ("lr_scheduler_factor", "0.1"),
        ("optimizer", "sgd"),
        ("momentum", "0.9"),
        ("weight_decay", "0.0005"),
        ("overlap_threshold", "0.5"),
        ("nms_threshold", "0.45"),
        ("image_shape", "300"),
        ("label_width", "350"),
        ("num_training_samples", "16551"),
    ];
    assert_eq!(hp.len(), expected.len(), "{hp:?}");
    for (k, v) in expected {
        assert_eq!(hp.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(
        job.vpc_config().unwrap().subnets().join(","),
        out("PrivateSubnetIds")
    );
    // --on-demand turns the profile's spot off.
    let dry = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "object-detection",
            "--on-demand",
            "--name",
            "od-2",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let r: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(r["EnableManagedSpotTraining"], false);
    assert!(r["StoppingCondition"]["MaxWaitTimeInSeconds"].is_null());

    // Detectron2 on two nodes: the config file by default, opts as KEY VALUE pairs.
    let d2 = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "detectron2",
            "--name",
            "d2-1",
            "-p",
            "opts=SOLVER.MAX_ITER 20000 SOLVER.BASE_LR 0.02",
        ],
    );
    assert_eq!(d2.code, 0, "{}", d2.stderr);
    let job = sm
        .describe_training_job()
        .training_job_name("d2-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        job.algorithm_specification().unwrap().training_image(),
        Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/detectron2-sagemaker:latest")
    );
    let channel = &job.input_data_config()[0];
    assert_eq!(channel.channel_name(), Some("training"));
    assert_eq!(
        channel
            .data_source()
            .unwrap()
            .s3_data_source()
            .unwrap()
            .s3_uri(),
        Some(format!("s3://{bucket}/detectron2/").as_str())
    );
    let hp = job.hyper_parameters().unwrap();
    assert_eq!(
        hp["config-file"],
        "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml"
    );
    assert_eq!(hp["opts"], "SOLVER.MAX_ITER 20000 SOLVER.BASE_LR 0.02");
    assert_eq!(hp["resume"], "True");
    assert_eq!(hp["eval-only"], "False");
    assert_eq!(hp["backend"], "nccl");
    assert!(!hp.contains_key("local-config-file"));
    let rc = job.resource_config().unwrap();
    assert_eq!(
        (rc.instance_count(), rc.volume_size_in_gb()),
        (Some(2), Some(100))
    );
    assert_eq!(
        rc.instance_type().map(|t| t.as_str()),
        Some("ml.p3.16xlarge")
    );
    assert_eq!(job.enable_managed_spot_training(), Some(false));
    // A local config file replaces the default config file.
    let dry = stackctl_aws(
        e,
        dir.path(),
        &[
            "job",
            "submit",
            "--model",
            "detectron2",
            "--name",
            "d2-2",
            "-p",
            "local-config-file=config.yaml",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let r: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(r["HyperParameters"]["local-config-file"], "config.yaml");
    assert!(
        r["HyperParameters"]["config-file"].is_null(),
        "{}",
        r["HyperParameters"]
    );

    // Bad inputs: exit 2, each problem said precisely, nothing created.
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--model", "detectron2", "--data", "efs"],
            &[
                "--data efs: model `detectron2` reads detectron2/, and EFS holds only the stack's DataPrefix",
            ],
        ),
        (
            &[
                "--model",
                "detectron2",
                "-p",
                "config-file=a.yaml",
                "-p",
                "local-config-file=b.yaml",
                "-p",
                "opts=SOLVER.MAX_ITER",
            ],
            &[
                "set exactly one of `config-file`, `local-config-file` (set: config-file, local-config-file)",
                "`opts=SOLVER.MAX_ITER`: expected KEY VALUE pairs: 1 words is an odd count (`SOLVER.MAX_ITER` has no value)",
            ],
        ),
        (
            &[
                "--model",
                "object-detection",
                "-p",
                "num_classes=0",
                "-p",
                "learning_rate=0",
                "-p",
                "lr_scheduler_step=6,3",
                "-p",
                "optimizer=adamw",
            ],
            &[
                "`num_classes=0`: out of range: allowed is 1..=",
                "`learning_rate=0`: out of range: allowed is (0, 1]",
                "`lr_scheduler_step=6,3`: expected increasing positive integers separated by commas",
                "`optimizer=adamw`: expected one of sgd, adam, rmsprop, adadelta",
            ],
        ),
        (
            &["--model", "object-detection", "--data", "efs"],
            &[
                "--data efs: channel `train` of model `object-detection` is read from s3 only (content type application/x-recordio)",
            ],
        ),
    ];
    for (args, needles) in cases {
        let mut all = vec!["job", "submit", "--name", "bad-1"];
        all.extend_from_slice(args);
        let bad = stackctl_aws(e, dir.path(), &all);
        assert_eq!(bad.code, 2, "{args:?}: {}", bad.stderr);
        for needle in needles {
            assert!(bad.stderr.contains(needle), "{needle}\n{}", bad.stderr);
        }
    }
    let names: Vec<String> = sm
        .list_training_jobs()
        .send()
        .await
        .unwrap()
        .training_job_summaries()
        .iter()
        .filter_map(|j| j.training_job_name().map(str::to_owned))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
