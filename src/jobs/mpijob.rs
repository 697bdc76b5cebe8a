//! `stackctl job render --target mpijob`: a Kubeflow MPIJob (kubeflow.org/v2beta1) for EKS
//! (seed 002) from the same profile and overrides as a SageMaker job.
//!
//! The manifest is built as typed values (the v2beta1 fields) and serialized, so its shape
//! cannot drift; the per-model command comes from the profile's `mpijob.command` templates
//! (strict handlebars, one argv item each). [`check`] validates any manifest against the
//! MPIJob v2beta1 schema's required fields and types; the command runs it on what it renders.

use std::collections::BTreeMap;

use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

use super::profile::Profile;

/// A GPU node type EKS users run these models on.
struct NodeType {
    /// EC2 instance type.
    name: &'static str,
    /// NVIDIA GPUs.
    gpus: u32,
    /// EFA interfaces (`vpc.amazonaws.com/efa` of the EFA device plugin): one per network card
    /// that takes one (EC2 User Guide, "Elastic Fabric Adapter", supported instance types,
    /// and "Network cards"); 0 without EFA.
    efa: u32,
    /// EFA RDMA read/write (GPUDirect RDMA): FI_EFA_USE_DEVICE_RDMA=1 ("Get started with EFA
    /// and NCCL" sets it on p4d, p4de, p5 and p5e only).
    rdma: bool,
}

const fn node(name: &'static str, gpus: u32, efa: u32, rdma: bool) -> NodeType {
    NodeType {
        name,
        gpus,
        efa,
        rdma,
    }
}

/// The node types, their GPUs and EFA interfaces: the one place these facts live.
const NODE_TYPES: [NodeType; 20] = [
    node("p3.2xlarge", 1, 0, false),
    node("p3.8xlarge", 4, 0, false),
    node("p3.16xlarge", 8, 0, false),
    node("p3dn.24xlarge", 8, 1, false),
    node("p4d.24xlarge", 8, 4, true),
    node("p4de.24xlarge", 8, 4, true),
    node("p5.48xlarge", 8, 32, true),
    node("p5e.48xlarge", 8, 32, true),
    node("g4dn.12xlarge", 4, 1, false),
    node("g4dn.metal", 8, 1, false),
    node("g5.xlarge", 1, 0, false),
    node("g5.2xlarge", 1, 0, false),
    node("g5.12xlarge", 4, 1, false),
    node("g5.24xlarge", 4, 1, false),
    node("g5.48xlarge", 8, 1, false),
    node("g6.xlarge", 1, 0, false),
    node("g6.12xlarge", 4, 1, false),
    node("g6.24xlarge", 4, 1, false),
    node("g6.48xlarge", 8, 1, false),
    node("g6e.48xlarge", 8, 4, false),
];

/// The extended resource the EFA Kubernetes device plugin advertises (EKS User Guide, "Run
/// machine learning training on Amazon EKS with Elastic Fabric Adapter").
const EFA_RESOURCE: &str = "vpc.amazonaws.com/efa";

/// What libfabric and NCCL need to use EFA instead of falling back to TCP sockets (EC2 User
/// Guide, "Get started with EFA and NCCL"; the EKS EFA guide's MPIJob): the EFA provider,
/// fork safety (the data loaders fork), GPUDirect RDMA where the node has it.
fn efa_env(node: &NodeType) -> Vec<(&'static str, &'static str)> {
    let mut env = vec![("FI_PROVIDER", "efa"), ("FI_EFA_FORK_SAFE", "1")];
    if node.rdma {
        env.push(("FI_EFA_USE_DEVICE_RDMA", "1"));
    }
    env
}

/// Kubernetes pulls `:latest` or an untagged image only with `Always` (its default for them),
/// so a re-pushed image is not run stale from a node's cache; a digest or another tag is
/// immutable by convention and keeps `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    if image.contains("@sha256:") {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

/// The profile's `mpijob` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MpiJobProfile {
    /// `per_gpu` (mpirun -np = GPUs, one rank per GPU: Horovod) or `per_node` (one process per
    /// node that starts its GPUs itself: torch DDP).
    pub processes: Processes,
    /// Working directory of launcher and workers.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Environment of every rank (values are templates), exported through mpirun `-x`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Append `config:KEY=value` overrides as `KEY=value` arguments.
    #[serde(default)]
    pub append_config: bool,
    /// The command of each rank; each item a template.
    pub command: Vec<String>,
}

/// How mpirun places processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Processes {
    /// One rank per GPU.
    PerGpu,
    /// One process per node.
    PerNode,
}

/// The shared file system the pods mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SharedFs {
    /// FSx for Lustre (PVC `pv-fsx`, mounted at /fsx), the EKS tutorial's default.
    Fsx,
    /// EFS (PVC `pv-efs`, mounted at /efs).
    Efs,
}

impl SharedFs {
    fn name(self) -> &'static str {
        match self {
            Self::Fsx => "fsx",
            Self::Efs => "efs",
        }
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct MpiJobOptions {
    /// Job name (DNS-1123 label).
    pub name: String,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Image URI.
    pub image: String,
    /// Instance type of the GPU nodes (`ml.` prefix allowed).
    pub instance_type: String,
    /// Worker nodes.
    pub nodes: u32,
    /// Shared file system.
    pub shared_fs: SharedFs,
    /// PVC name (default `pv-<fs>`).
    pub pvc: Option<String>,
    /// Data path under the mount (the data prefix).
    pub data_path: String,
    /// Hyperparameter overrides.
    pub overrides: Vec<(String, String)>,
    /// runPolicy.backoffLimit.
    pub backoff_limit: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MpiJob {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    slots_per_worker: u32,
    run_policy: RunPolicy,
    mpi_implementation: &'static str,
    mpi_replica_specs: BTreeMap<&'static str, ReplicaSpec>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunPolicy {
    backoff_limit: u32,
    clean_pod_policy: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplicaSpec {
    replicas: u32,
    restart_policy: &'static str,
    template: PodTemplate,
}

#[derive(Serialize)]
struct PodTemplate {
    metadata: PodMetadata,
    spec: PodSpec,
}

#[derive(Serialize)]
struct PodMetadata {
    annotations: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    node_selector: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tolerations: Vec<Toleration>,
    containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Volume>,
}

#[derive(Serialize)]
struct Toleration {
    key: &'static str,
    operator: &'static str,
    effect: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: &'static str,
    image: String,
    image_pull_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Resources>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volume_mounts: Vec<VolumeMount>,
}

#[derive(Serialize)]
struct EnvVar {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Resources {
    requests: BTreeMap<&'static str, u32>,
    limits: BTreeMap<&'static str, u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VolumeMount {
    name: String,
    mount_path: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    persistent_volume_claim: Option<ClaimRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empty_dir: Option<EmptyDir>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimRef {
    claim_name: String,
}

#[derive(Serialize)]
struct EmptyDir {
    medium: &'static str,
}

/// Template helpers of the command templates: `div` (integer division of a number given as
/// text), `shell` (one single-quoted word) and `shellwords` (each word quoted); `concat` is
/// the template engine's (render::helpers).
mod helpers {
    #![allow(missing_docs)]
    use handlebars::handlebars_helper;

    handlebars_helper!(div: |a: str, b: u64| {
        a.parse::<u64>().ok().filter(|_| b > 0).map_or(0, |a| a / b)
    });
    handlebars_helper!(shell: |s: str| shell_quote(s));
    handlebars_helper!(shellwords: |s: str| {
        s.split_whitespace().map(shell_quote).collect::<Vec<_>>().join(" ")
    });

    /// Single-quotes a word for a POSIX shell.
    pub fn shell_quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn registry() -> Handlebars<'static> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    h.register_helper("div", Box::new(helpers::div));
    h.register_helper("concat", Box::new(crate::render::helpers::concat));
    h.register_helper("shell", Box::new(helpers::shell));
    h.register_helper("shellwords", Box::new(helpers::shellwords));
    h
}

fn node_type(instance_type: &str) -> Result<&'static NodeType, String> {
    let name = instance_type.strip_prefix("ml.").unwrap_or(instance_type);
    NODE_TYPES.iter().find(|n| n.name == name).ok_or_else(|| {
        format!(
            "instance type `{instance_type}`: not a known GPU type; known: {}",
            NODE_TYPES
                .iter()
                .map(|n| n.name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The GPU count of a node type (`ml.` prefix allowed).
pub fn gpus_per_node(instance_type: &str) -> Result<u32, String> {
    node_type(instance_type).map(|n| n.gpus)
}

/// The EFA interfaces of a node type (`ml.` prefix allowed); 0 without EFA.
pub fn efa_per_node(instance_type: &str) -> Result<u32, String> {
    node_type(instance_type).map(|n| n.efa)
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    ok.then_some(()).ok_or_else(|| {
        format!("`{name}`: a Kubernetes name is 1-63 lower-case letters, digits and `-`, starting and ending with a letter or digit")
    })
}

/// Renders the manifest; every problem with the input is reported at once.
pub fn render(profile: &Profile, opts: &MpiJobOptions) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let Some(mpi) = &profile.mpijob else {
        return Err(vec![format!(
            "model `{}` has no MPIJob form (it runs only as a SageMaker job)",
            profile.name
        )]);
    };
    for (what, value) in [("--name", &opts.name), ("--namespace", &opts.namespace)] {
        if let Err(e) = check_name(value) {
            problems.push(format!("{what} {e}"));
        }
    }
    let node = node_type(&opts.instance_type).unwrap_or_else(|e| {
        problems.push(e);
        &NODE_TYPES[0]
    });
    let gpus_per_node = node.gpus;
    if !(1..=1000).contains(&opts.nodes) {
        problems.push(format!(
            "--instance-count {}: allowed is 1..=1000",
            opts.nodes
        ));
    }
    let values = profile
        .hyperparameters(&opts.overrides)
        .unwrap_or_else(|e| {
            match e {
                super::profile::ProfileError::Hyperparameters { problems: p, .. } => {
                    problems.extend(p)
                }
                other => problems.push(other.to_string()),
            }
            BTreeMap::new()
        });
    if !problems.is_empty() {
        return Err(problems);
    }

    let fs = opts.shared_fs.name();
    let mount = format!("/{fs}");
    let data_dir = format!("{mount}/{}", opts.data_path.trim_matches('/'));
    let log_dir = format!("{mount}/logs/{}", opts.name);
    let gpus = gpus_per_node * opts.nodes;
    // Every schema name is present ("" when unset), so templates can test optional ones.
    let mut hp: BTreeMap<String, String> = profile
        .hyperparameters
        .iter()
        .map(|h| (h.name.clone(), String::new()))
        .collect();
    let mut config = Vec::new();
    for (k, v) in &values {
        match k.strip_prefix("config:") {
            Some(key) => config.push(format!("{key}={v}")),
            None => {
                hp.insert(k.clone(), v.clone());
            }
        }
    }
    let ctx = serde_json::json!({
        "hp": hp,
        "gpus": gpus,
        "nodes": opts.nodes,
        "gpus_per_node": gpus_per_node,
        "data_dir": data_dir,
        "log_dir": log_dir,
        "name": opts.name,
    });
    let reg = registry();
    let fill = |template: &str| {
        reg.render_template(template, &ctx)
            .map(|s| s.trim().to_owned())
            .map_err(|e| {
                format!(
                    "profile `{}`: mpijob template `{template}`: {e}",
                    profile.name
                )
            })
    };
    let mut command = Vec::new();
    for item in &mpi.command {
        let text = fill(item).map_err(|e| vec![e])?;
        if !text.is_empty() {
            command.push(text);
        }
    }
    if mpi.append_config {
        command.extend(config);
    }
    let mut env = Vec::new();
    for (name, template) in &mpi.env {
        env.push(EnvVar {
            name: name.clone(),
            value: fill(template).map_err(|e| vec![e])?,
        });
    }
    if node.efa > 0 {
        for (name, value) in efa_env(node) {
            env.retain(|e| e.name != name);
            env.push(EnvVar {
                name: name.to_owned(),
                value: value.to_owned(),
            });
        }
    }

    let np = match mpi.processes {
        Processes::PerGpu => gpus,
        Processes::PerNode => opts.nodes,
    };
    let map_by = match mpi.processes {
        Processes::PerGpu => "slot",
        Processes::PerNode => "ppr:1:node",
    };
    let mut mpirun: Vec<String> = [
        "mpirun",
        "--allow-run-as-root",
        "-np",
        &np.to_string(),
        "-bind-to",
        "none",
        "-map-by",
        map_by,
        "-mca",
        "pml",
        "ob1",
        "-mca",
        "btl",
        "^openib",
        "-mca",
        "btl_tcp_if_exclude",
        "lo,docker0",
        "-mca",
        "oob_tcp_if_exclude",
        "lo,docker0",
        "-mca",
        "plm_rsh_no_tree_spawn",
        "1",
        "--tag-output",
        "--timestamp-output",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for var in env
        .iter()
        .map(|e| e.name.clone())
        .chain(["LD_LIBRARY_PATH".to_owned(), "PATH".to_owned()])
    {
        mpirun.push("-x".to_owned());
        mpirun.push(var);
    }
    mpirun.extend(command);

    let annotations = BTreeMap::from([
        ("karpenter.sh/do-not-disrupt", "true"),
        ("sidecar.istio.io/inject", "false"),
    ]);
    let claim = opts.pvc.clone().unwrap_or_else(|| format!("pv-{fs}"));
    let launcher = ReplicaSpec {
        replicas: 1,
        restart_policy: "OnFailure",
        template: PodTemplate {
            metadata: PodMetadata {
                annotations: annotations.clone(),
            },
            spec: PodSpec {
                node_selector: None,
                tolerations: Vec::new(),
                containers: vec![Container {
                    name: "launcher",
                    image: opts.image.clone(),
                    image_pull_policy: pull_policy(&opts.image),
                    working_dir: mpi.working_dir.clone(),
                    command: vec![mpirun.remove(0)],
                    args: mpirun,
                    env: env
                        .iter()
                        .map(|e| EnvVar {
                            name: e.name.clone(),
                            value: e.value.clone(),
                        })
                        .collect(),
                    resources: None,
                    volume_mounts: Vec::new(),
                }],
                volumes: Vec::new(),
            },
        },
    };
    // Without the EFA interfaces in the pod, NCCL finds no EFA device and uses TCP.
    let mut gpu_resources = BTreeMap::from([("nvidia.com/gpu", gpus_per_node)]);
    if node.efa > 0 {
        gpu_resources.insert(EFA_RESOURCE, node.efa);
    }
    let worker = ReplicaSpec {
        replicas: opts.nodes,
        restart_policy: "Never",
        template: PodTemplate {
            metadata: PodMetadata { annotations },
            spec: PodSpec {
                node_selector: Some(BTreeMap::from([(
                    "node.kubernetes.io/instance-type",
                    opts.instance_type
                        .strip_prefix("ml.")
                        .unwrap_or(&opts.instance_type)
                        .to_owned(),
                )])),
                tolerations: vec![Toleration {
                    key: "nvidia.com/gpu",
                    operator: "Exists",
                    effect: "NoSchedule",
                }],
                containers: vec![Container {
                    name: "worker",
                    image: opts.image.clone(),
                    image_pull_policy: pull_policy(&opts.image),
                    working_dir: mpi.working_dir.clone(),
                    // The launcher reaches the workers over SSH (MPI Operator v2 mounts the
                    // keys); the images carry sshd.
                    command: vec!["/usr/sbin/sshd".to_owned()],
                    args: vec!["-De".to_owned()],
                    env,
                    resources: Some(Resources {
                        requests: gpu_resources.clone(),
                        limits: gpu_resources,
                    }),
                    volume_mounts: vec![
                        VolumeMount {
                            name: fs.to_owned(),
                            mount_path: mount.clone(),
                        },
                        VolumeMount {
                            name: "shm".to_owned(),
                            mount_path: "/dev/shm".to_owned(),
                        },
                    ],
                }],
                volumes: vec![
                    Volume {
                        name: fs.to_owned(),
                        persistent_volume_claim: Some(ClaimRef { claim_name: claim }),
                        empty_dir: None,
                    },
                    // NCCL and the data loaders need more shared memory than a pod's 64 MB.
                    Volume {
                        name: "shm".to_owned(),
                        persistent_volume_claim: None,
                        empty_dir: Some(EmptyDir { medium: "Memory" }),
                    },
                ],
            },
        },
    };
    let job = MpiJob {
        api_version: "kubeflow.org/v2beta1",
        kind: "MPIJob",
        metadata: Metadata {
            name: opts.name.clone(),
            namespace: opts.namespace.clone(),
            labels: BTreeMap::from([
                ("app.kubernetes.io/name".to_owned(), profile.name.clone()),
                (
                    "app.kubernetes.io/managed-by".to_owned(),
                    "stackctl".to_owned(),
                ),
            ]),
        },
        spec: Spec {
            slots_per_worker: match mpi.processes {
                Processes::PerGpu => gpus_per_node,
                Processes::PerNode => 1,
            },
            run_policy: RunPolicy {
                backoff_limit: opts.backoff_limit,
                clean_pod_policy: "Running",
            },
            mpi_implementation: "OpenMPI",
            mpi_replica_specs: BTreeMap::from([("Launcher", launcher), ("Worker", worker)]),
        },
    };
    let text = serde_yaml::to_string(&job).expect("the manifest serializes");
    let parsed: serde_yaml::Value = serde_yaml::from_str(&text).expect("what was written parses");
    let problems = check(&parsed);
    if problems.is_empty() {
        Ok(text)
    } else {
        Err(problems)
    }
}

/// Checks a manifest against the MPIJob v2beta1 schema: required fields, their types and
/// allowed values (as the CRD of kubeflow/mpi-operator v0.4+ defines them), and that every
/// volume mount names a volume.
pub fn check(doc: &serde_yaml::Value) -> Vec<String> {
    use serde_yaml::Value;
    let mut problems = Vec::new();
    let get = |v: &Value, path: &str| -> Option<Value> {
        path.split('.')
            .try_fold(v.clone(), |v, k| v.get(k).cloned())
    };
    let mut want_str = |v: &Value, path: &str, allowed: &[&str]| match get(v, path) {
        Some(Value::String(s)) if allowed.is_empty() || allowed.contains(&s.as_str()) => {}
        Some(Value::String(s)) => {
            problems.push(format!("{path}: `{s}`; allowed: {}", allowed.join(", ")))
        }
        Some(_) => problems.push(format!("{path}: must be a string")),
        None => problems.push(format!("{path}: required")),
    };
    want_str(doc, "apiVersion", &["kubeflow.org/v2beta1"]);
    want_str(doc, "kind", &["MPIJob"]);
    want_str(doc, "metadata.name", &[]);
    want_str(
        doc,
        "spec.mpiImplementation",
        &["OpenMPI", "Intel", "MPICH"],
    );
    want_str(
        doc,
        "spec.runPolicy.cleanPodPolicy",
        &["None", "Running", "All"],
    );
    let int_at_least =
        |v: &Value, path: &str, min: i64, problems: &mut Vec<String>| match get(v, path) {
            Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= min) => {}
            Some(_) => problems.push(format!("{path}: must be an integer >= {min}")),
            None => problems.push(format!("{path}: required")),
        };
    int_at_least(doc, "spec.slotsPerWorker", 1, &mut problems);
    int_at_least(doc, "spec.runPolicy.backoffLimit", 0, &mut problems);
    let Some(Value::Mapping(specs)) = get(doc, "spec.mpiReplicaSpecs") else {
        problems.push("spec.mpiReplicaSpecs: required (Launcher and Worker)".to_owned());
        return problems;
    };
    for role in ["Launcher", "Worker"] {
        let base = format!("spec.mpiReplicaSpecs.{role}");
        let Some(spec) = specs.get(role) else {
            problems.push(format!("{base}: required"));
            continue;
        };
        int_at_least(spec, "replicas", 1, &mut problems);
        if role == "Launcher" && get(spec, "replicas").and_then(|r| r.as_i64()) != Some(1) {
            problems.push(format!(
                "{base}.replicas: the launcher has exactly 1 replica"
            ));
        }
        let allowed = ["Always", "OnFailure", "Never", "ExitCode"];
        if !matches!(get(spec, "restartPolicy"), Some(Value::String(p)) if allowed.contains(&p.as_str()))
        {
            problems.push(format!(
                "{base}.restartPolicy: one of Always, OnFailure, Never, ExitCode"
            ));
        }
        let Some(Value::Sequence(containers)) = get(spec, "template.spec.containers") else {
            problems.push(format!("{base}.template.spec.containers: required, a list"));
            continue;
        };
        if containers.is_empty() {
            problems.push(format!("{base}.template.spec.containers: at least one"));
        }
        let volumes: Vec<String> = match get(spec, "template.spec.volumes") {
            Some(Value::Sequence(v)) => v
                .iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        for (i, c) in containers.iter().enumerate() {
            let at = format!("{base}.template.spec.containers[{i}]");
            for field in ["name", "image"] {
                if !matches!(c.get(field), Some(Value::String(s)) if !s.is_empty()) {
                    problems.push(format!("{at}.{field}: required, a non-empty string"));
                }
            }
            for field in ["command", "args"] {
                if let Some(v) = c.get(field)
                    && !matches!(v, Value::Sequence(items) if items.iter().all(Value::is_string))
                {
                    problems.push(format!("{at}.{field}: a list of strings"));
                }
            }
            if let Some(Value::Sequence(mounts)) = c.get("volumeMounts") {
                for m in mounts {
                    let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
                    if !volumes.iter().any(|v| v == name) {
                        problems.push(format!(
                            "{at}.volumeMounts: `{name}` is not a volume of the pod"
                        ));
                    }
                    if !matches!(m.get("mountPath"), Some(Value::String(p)) if p.starts_with('/')) {
                        problems.push(format!(
                            "{at}.volumeMounts: `{name}` needs an absolute mountPath"
                        ));
                    }
                }
            }
            if let Some(limits) = c.get("resources").and_then(|r| r.get("limits"))
                && let Some(g) = limits.get("nvidia.com/gpu")
                && g.as_i64().is_none_or(|g| g < 1)
            {
                problems.push(format!(
                    "{at}.resources.limits.nvidia.com/gpu: an integer >= 1"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_check_names_every_missing_or_wrong_field() {
        let doc: serde_yaml::Value = serde_yaml::from_str(
            r#"
apiVersion: kubeflow.org/v1
kind: MPIJob
metadata: {name: x}
spec:
  slotsPerWorker: 0
  runPolicy: {cleanPodPolicy: Sometimes}
  mpiImplementation: OpenMPI
  mpiReplicaSpecs:
    Launcher:
      replicas: 2
      restartPolicy: OnFailure
      template: {spec: {containers: [{name: l}]}}
    Worker:
      replicas: 1
      restartPolicy: Later
      template:
        spec:
          containers:
            - name: w
              image: i
              args: [1]
              volumeMounts: [{name: data, mountPath: fsx}]
"#,
        )
        .unwrap();
        let problems = check(&doc);
        for want in [
            "apiVersion: `kubeflow.org/v1`; allowed: kubeflow.org/v2beta1",
            "spec.runPolicy.cleanPodPolicy: `Sometimes`; allowed: None, Running, All",
            "spec.slotsPerWorker: must be an integer >= 1",
            "spec.runPolicy.backoffLimit: required",
            "spec.mpiReplicaSpecs.Launcher.replicas: the launcher has exactly 1 replica",
            "spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].image: required",
            "spec.mpiReplicaSpecs.Worker.restartPolicy: one of Always, OnFailure, Never, ExitCode",
            "spec.mpiReplicaSpecs.Worker.template.spec.containers[0].args: a list of strings",
            "volumeMounts: `data` is not a volume of the pod",
            "volumeMounts: `data` needs an absolute mountPath",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(want)),
                "{want}\n{problems:#?}"
            );
        }
    }

    #[test]
    fn mutable_tags_pull_always_and_every_efa_node_has_gpus() {
        for (image, policy) in [
            ("repo/image:latest", "Always"),
            ("repo/image", "Always"),
            ("host:5000/repo/image", "Always"),
            ("host:5000/repo/image:v1", "IfNotPresent"),
            ("repo/image@sha256:abcd", "IfNotPresent"),
        ] {
            assert_eq!(pull_policy(image), policy, "{image}");
        }
        assert_eq!(efa_per_node("ml.p5.48xlarge"), Ok(32));
        assert_eq!(efa_per_node("p3.16xlarge"), Ok(0));
        // RDMA is a property of EFA interfaces: none without them.
        assert!(
            NODE_TYPES
                .iter()
                .all(|n| n.gpus > 0 && (!n.rdma || n.efa > 0))
        );
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(helpers::shell_quote("a'b"), r"'a'\''b'");
    }
}
