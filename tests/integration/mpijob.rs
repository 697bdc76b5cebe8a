//! `stackctl job render --target mpijob` (seed 002): the manifest parses as YAML, passes the
//! MPIJob v2beta1 schema check, carries what the profile and flags say, and matches its
//! insta snapshot (tests/integration/snapshots/; docs/testing.md says how to review one). No AWS
//! is needed.

use crate::support::stackctl;

fn render(args: &[&str]) -> serde_yaml::Value {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["job", "render", "--target", "mpijob"];
    all.extend_from_slice(args);
    let out = stackctl(dir.path(), &all);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_yaml::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", out.stdout))
}

/// The manifest as an insta snapshot (tests/integration/snapshots/).
fn snapshot(name: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["job", "render", "--target", "mpijob"];
    all.extend_from_slice(args);
    let out = stackctl(dir.path(), &all);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(name.trim_end_matches(".yaml"), out.stdout);
}

fn str_list(v: &serde_yaml::Value) -> Vec<String> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn tensorpack_mpijob_is_valid_and_carries_the_profile() {
    let doc = render(&[
        "--model",
        "tensorpack",
        "--image",
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn-tensorpack:latest",
        "--instance-type",
        "p4d.24xlarge",
        "--instance-count",
        "2",
        "-p",
        "resnet_arch=resnet101",
        "-p",
        "config:TRAIN.CHECKPOINT_PERIOD=2",
    ]);
    assert_eq!(stackctl::jobs::mpijob::check(&doc), Vec::<String>::new());
    assert_eq!(doc["apiVersion"], "kubeflow.org/v2beta1");
    assert_eq!(doc["spec"]["slotsPerWorker"], 8);
    assert_eq!(doc["spec"]["runPolicy"]["cleanPodPolicy"], "Running");
    let worker = &doc["spec"]["mpiReplicaSpecs"]["Worker"];
    assert_eq!(worker["replicas"], 2);
    let pod = &worker["template"]["spec"];
    assert_eq!(
        pod["nodeSelector"]["node.kubernetes.io/instance-type"],
        "p4d.24xlarge"
    );
    assert_eq!(
        pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        8
    );
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "pv-fsx"
    );
    assert_eq!(pod["containers"][0]["volumeMounts"][0]["mountPath"], "/fsx");
    let launcher = &doc["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]["containers"][0];
    assert_eq!(str_list(&launcher["command"]), ["mpirun"]);
    let args = str_list(&launcher["args"]);
    let np = args.iter().position(|a| a == "-np").unwrap();
    assert_eq!(args[np + 1], "16", "one rank per GPU");
    for want in [
        "TRAIN.STEPS_PER_EPOCH=7500",
        "BACKBONE.RESNET_NUM_BLOCKS=[3,4,23,3]",
        "DATA.BASEDIR=/fsx/mask-rcnn/sagemaker/input/train",
        "TRAIN.CHECKPOINT_PERIOD=2",
        "TRAINER=horovod",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
    // p4d.24xlarge has 4 EFA interfaces with RDMA (EC2 User Guide, "Elastic Fabric Adapter",
    // supported instance types and network cards); the EFA device plugin advertises them as
    // vpc.amazonaws.com/efa (EKS User Guide, "Run machine learning training on Amazon EKS with
    // Elastic Fabric Adapter"). Without them in the pod NCCL falls back to TCP.
    let worker = &pod["containers"][0];
    for side in ["requests", "limits"] {
        assert_eq!(
            worker["resources"][side]["vpc.amazonaws.com/efa"], 4,
            "{side}"
        );
    }
    // libfabric's EFA provider, fork safety, GPUDirect RDMA ("Get started with EFA and NCCL"),
    // set on every rank: in both containers' env and exported by mpirun -x.
    for container in [launcher, worker] {
        for (name, value) in [
            ("FI_PROVIDER", "efa"),
            ("FI_EFA_FORK_SAFE", "1"),
            ("FI_EFA_USE_DEVICE_RDMA", "1"),
        ] {
            assert!(
                container["env"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|e| e["name"] == name && e["value"] == value),
                "{name}={value} not in {:?}",
                container["env"]
            );
        }
    }
    for name in ["FI_PROVIDER", "FI_EFA_FORK_SAFE", "FI_EFA_USE_DEVICE_RDMA"] {
        assert!(
            args.windows(2).any(|w| w[0] == "-x" && w[1] == name),
            "-x {name} not in {args:?}"
        );
    }
    // `:latest` moves: Always, or a node runs the image it pulled first.
    assert_eq!(launcher["imagePullPolicy"], "Always");
    assert_eq!(worker["imagePullPolicy"], "Always");
}

#[test]
fn an_immutable_image_keeps_if_not_present_and_a_node_without_efa_asks_for_none() {
    for (image, policy) in [
        (
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn-tensorpack:2024-06-01",
            "IfNotPresent",
        ),
        (
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn-tensorpack@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "IfNotPresent",
        ),
        // No tag means :latest; the registry's port is not a tag.
        ("registry.local:5000/mask-rcnn-tensorpack", "Always"),
    ] {
        let doc = render(&["--model", "tensorpack", "--image", image]);
        for role in ["Launcher", "Worker"] {
            assert_eq!(
                doc["spec"]["mpiReplicaSpecs"][role]["template"]["spec"]["containers"][0]["imagePullPolicy"],
                policy,
                "{image} {role}"
            );
        }
        // p3.16xlarge (the default) has no EFA.
        let worker = &doc["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0];
        assert!(worker["resources"]["limits"]["vpc.amazonaws.com/efa"].is_null());
        assert!(
            !worker["env"]
                .as_sequence()
                .unwrap()
                .iter()
                .any(|e| e["name"] == "FI_PROVIDER"),
            "{:?}",
            worker["env"]
        );
    }
}

#[test]
fn detectron2_mpijob_runs_one_launcher_process_per_node() {
    let doc = render(&[
        "--model",
        "detectron2",
        "--image",
        "detectron2:latest",
        "--shared-fs",
        "efs",
        "--name",
        "d2",
        "-p",
        "opts=SOLVER.MAX_ITER 20000",
    ]);
    assert_eq!(stackctl::jobs::mpijob::check(&doc), Vec::<String>::new());
    assert_eq!(doc["spec"]["slotsPerWorker"], 1);
    let launcher = &doc["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]["containers"][0];
    let args = str_list(&launcher["args"]);
    let np = args.iter().position(|a| a == "-np").unwrap();
    assert_eq!(
        (args[np + 1].as_str(), args[np + 5].as_str()),
        ("2", "ppr:1:node")
    );
    let script = args.last().unwrap();
    for want in [
        "--num-gpus 8 --num-machines 2 --machine-rank $OMPI_COMM_WORLD_RANK",
        "--dist-url tcp://d2-worker-0.d2:55555",
        "'SOLVER.MAX_ITER' '20000'",
        "OUTPUT_DIR '/efs/logs/d2'",
    ] {
        assert!(script.contains(want), "{want} not in {script}");
    }
    let env = &doc["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.as_sequence()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "DETECTRON2_DATASETS" && e["value"] == "/efs/detectron2"),
        "{env:?}"
    );
}

#[test]
fn mpijob_snapshots() {
    snapshot(
        "mpijob-tensorpack.yaml",
        &[
            "--model",
            "tensorpack",
            "--image",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn-tensorpack:latest",
        ],
    );
    snapshot(
        "mpijob-tensorpack-p4d.yaml",
        &[
            "--model",
            "tensorpack",
            "--image",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/mask-rcnn-tensorpack@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "--instance-type",
            "ml.p4d.24xlarge",
            "--instance-count",
            "2",
        ],
    );
    snapshot(
        "mpijob-detectron2.yaml",
        &[
            "--model",
            "detectron2",
            "--image",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/detectron2-sagemaker:latest",
        ],
    );
}

#[test]
fn bad_render_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--model", "object-detection", "--image", "x"],
            // Not offered (issue 12, item 11): the models with an MPIJob form are named.
            "invalid value 'object-detection' for '--model <MODEL>'\n  [possible values: tensorpack, aws-samples, detectron2]",
        ),
        (
            &["--model", "tensorpack"],
            "--image: the MPIJob needs an image URI",
        ),
        (
            &[
                "--model",
                "aws-samples",
                "--image",
                "x",
                "--instance-type",
                "ml.m5.xlarge",
            ],
            "not a known GPU type",
        ),
        (
            &[
                "--model",
                "detectron2",
                "--image",
                "x",
                "--name",
                "Bad_Name",
            ],
            "--name `Bad_Name`: a Kubernetes name",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["job", "render"];
        all.extend_from_slice(args);
        let out = stackctl(dir.path(), &all);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{want}\n{}", out.stderr);
    }
}
