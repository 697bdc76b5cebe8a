//! Command-line arguments (clap). Help text is the doc comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit_code::EXIT_CODES_HELP;
use crate::spec::scalars::InstanceType;

/// Bootstrap an AWS account for distributed Mask R-CNN training, run the training, and tear it
/// all down again.
///
/// Every command reads a stack file: the one given with --stack, else ./stackctl.yaml when the
/// working directory has one (the file `stackctl init` writes), else the embedded default
/// (stacks/default.yaml), so nothing needs to be written first. Each says on stderr which.
#[derive(Debug, Parser)]
#[command(name = "stackctl", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command (listed under their own heading, after each command's own).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Stack file (default: ./stackctl.yaml when it exists, else the embedded default).
    #[arg(long, global = true, env = "STACKCTL_STACK", value_name = "FILE")]
    pub stack: Option<PathBuf>,

    /// Directory with customised templates; a file there replaces the embedded template of the
    /// same relative path (e.g. cloudformation/efs.yaml.hbs).
    #[arg(long, global = true, env = "STACKCTL_TEMPLATES", value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Output format of results on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, env = "STACKCTL_OUTPUT")]
    pub output: OutputFormat,

    /// Hide status lines on stderr (errors are always shown).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Plain status lines even on a terminal: no progress bars (for screen recordings, `script`
    /// and tmux logs).
    /// (STACKCTL_NO_PROGRESS=1 sets it; 0, false, no or off do not.)
    #[arg(long, global = true, env = "STACKCTL_NO_PROGRESS",
          value_parser = clap::builder::FalseyValueParser::new())]
    pub no_progress: bool,

    /// One line per AWS call on stderr (service, operation, HTTP status, latency, attempt,
    /// request id); -vv adds the SDK's debug events. RUST_LOG, when set, picks the events
    /// instead. Credentials and signatures are never shown.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// AWS region; beats the stack file's `region`, AWS_REGION and the profile.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// AWS profile from the shared config files (default: AWS_PROFILE or `default`).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send every AWS call to this AWS-compatible endpoint (e.g. the local emulator);
    /// AWS_ENDPOINT_URL works too.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl GlobalArgs {
    /// True when long operations may draw progress bars: text output, not `--quiet`, not
    /// `--no-progress`, and stderr is a terminal. Everything else gets plain lines (or NDJSON).
    pub fn progress_bars(&self) -> bool {
        use std::io::IsTerminal;
        self.output == OutputFormat::Text
            && !self.quiet
            && !self.no_progress
            && std::io::stderr().is_terminal()
    }
}

/// Global options given on the command line that the command run cannot use, refused with
/// the reason (exit 2) rather than ignored: `init` writes the embedded stack file and calls no
/// AWS API; `completions`, `man` and `schema` print what the binary knows. Values from the environment (STACKCTL_STACK, ...) are not refused: they are meant
/// for every command.
pub fn refuse_inapplicable(matches: &clap::ArgMatches) -> Result<(), clap::Error> {
    let Some((name, sub)) = matches.subcommand() else {
        return Ok(());
    };
    let reasons: &[(&str, &str, &str)] = match name {
        "init" => &[
            (
                "stack",
                "--stack",
                "init writes the file its PATH argument names (`stackctl init FILE`)",
            ),
            (
                "templates",
                "--templates",
                "init writes the stack file only; templates are read by render, plan and up",
            ),
            (
                "region",
                "--region",
                "init calls no AWS API (set `region:` in the file it writes)",
            ),
            ("profile", "--profile", "init calls no AWS API"),
            ("endpoint_url", "--endpoint-url", "init calls no AWS API"),
        ],
        // They print what the binary itself knows.
        "completions" | "man" | "schema" => &[
            ("stack", "--stack", "it reads no stack file"),
            ("templates", "--templates", "it reads no templates"),
            ("region", "--region", "it calls no AWS API"),
            ("profile", "--profile", "it calls no AWS API"),
            ("endpoint_url", "--endpoint-url", "it calls no AWS API"),
        ],
        _ => return Ok(()),
    };
    for (id, flag, why) in reasons {
        if sub.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            cmd.build();
            let command = cmd.find_subcommand_mut(name).expect("a command");
            return Err(command.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("{flag} does not apply to `{name}`: {why}"),
            ));
        }
    }
    Ok(())
}

/// Result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// One JSON document (or NDJSON events) on stdout.
    Json,
}

/// stackctl's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented stack file equal to the embedded default.
    Init {
        /// Where to write it; `-` writes to stdout.
        #[arg(default_value = crate::spec::LOCAL_STACK_FILE, value_name = "PATH")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check the stack file and report every problem with its line and column.
    Validate,
    /// Print the CloudFormation template the stack file renders to.
    Render {
        /// Write the template to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Validate, render and check the template; list its resources, outputs and estimated
    /// cost; preview the change set against the deployed stack (unless --offline).
    Plan(PlanArgs),
    /// Create or update the stack so it matches the stack file.
    Up(UpArgs),
    /// Delete the stack; keeps retained data (EFS, the data bucket) unless --delete-data.
    Down(DownArgs),
    /// Show the stack's status, its resources and its last failure.
    Status,
    /// Check, read-only, that the account and region can take the stack file and its jobs:
    /// credentials and account, zones, an existing VPC's routes and group, an existing EFS,
    /// SageMaker quotas, the images in ECR; each finding with its fix (exit 1 if one is fatal).
    Doctor,
    /// Submit and watch training jobs on the stack.
    #[command(subcommand)]
    Job(JobCommand),
    /// Stage the COCO 2017 data set into S3, EFS and FSx, and show what is staged.
    #[command(subcommand)]
    Data(DataCommand),
    /// Build the Mask R-CNN training images and push them to your ECR repository (the image
    /// `job submit` uses by default).
    #[command(subcommand)]
    Image(ImageCommand),
    /// Print the stack's outputs.
    Outputs {
        /// table (aligned text), json (one object), or env (`export NAME='value'` lines to eval);
        /// default: json with --output json, else table.
        #[arg(long, value_enum)]
        format: Option<OutputsFormat>,
    },
    /// Print the shell completion script (e.g. `source <(stackctl completions bash)`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page stackctl(1) in roff (`stackctl man | man -l -`), or write it and
    /// a page per command into a directory.
    Man {
        /// Write stackctl.1 and a page per command (stackctl-job-submit.1, ...) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of the stack file, for editors: completion, hover text and
    /// checks as you type (the copy `init` writes beside the stack file).
    Schema {
        /// Write it to this file instead of stdout, e.g. to refresh stackctl.schema.json.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `stackctl image` commands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the model's image with docker (logs in to the deep learning container registry
    /// for the base image).
    Build(ImageArgs),
    /// Create the ECR repository if missing, build, log in and push; prints the image URI.
    Push(ImageArgs),
}

/// `stackctl image build|push` options.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The model whose image to build (the others use an image AWS publishes, or one you
    /// build yourself and name in jobs.images).
    #[arg(long, value_enum)]
    pub model: ImageModel,
    /// Image tag (default: the profile's, `latest`).
    #[arg(long)]
    pub tag: Option<String>,
    /// Where the build context is written (default: stackctl-image-<model>).
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// Print the exact docker commands (and whether the repository would be created); change
    /// nothing and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The docker program.
    #[arg(
        long,
        env = "STACKCTL_DOCKER",
        default_value = "docker",
        value_name = "PROGRAM"
    )]
    pub docker: String,
}

/// `stackctl data` commands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Upload a COCO 2017 tree (or download the official archives) to the data bucket, copy it
    /// to EFS with the stack's DataSync task, and import it into FSx. Resumable: a second run
    /// sends only what is missing or different.
    Stage(StageArgs),
    /// What is in S3 under the data prefix, the last EFS copy and FSx import, and whether the
    /// layout is complete for each model.
    Status(DataTarget),
}

/// Where the data goes, when not (only) the stack's bucket and prefix.
#[derive(Debug, Clone, Args)]
pub struct DataTarget {
    /// Use this bucket directly, without a stack (S3 only; e.g. staging before `up`).
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Key prefix in the bucket (default: the model's own data prefix, else the stack's
    /// DataPrefix output, or the stack file's data.prefix with --bucket).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Check (and default the prefix to) this model's data layout instead of the Mask R-CNN
    /// one: e.g. object-detection's RecordIO train/ and validation/, detectron2's coco/.
    #[arg(long, value_enum)]
    pub model: Option<JobModel>,
}

/// `stackctl data stage` options.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// Upload this extracted COCO 2017 tree (train2017/, val2017/, annotations/,
    /// pretrained-models/).
    #[arg(long, value_name = "DIR", conflicts_with = "download")]
    pub from: Option<PathBuf>,
    /// Download, verify and extract the official archives, then upload them.
    #[arg(long, value_enum, value_name = "DATASET")]
    pub download: Option<Dataset>,
    /// Where to stage: s3 only, efs or fsx (from what is in S3), or all the stack has.
    #[arg(long, value_enum, default_value_t = StageTarget::All)]
    pub to: StageTarget,
    /// Bucket and prefix.
    #[command(flatten)]
    pub target: DataTarget,
    /// Backbone weights to stage under pretrained-models/ (repeatable; r50 is always needed).
    #[arg(long = "backbone", value_enum, default_values_t = [Backbone::R50])]
    pub backbones: Vec<Backbone>,
    /// Requests in flight.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Multipart part size and threshold, in MiB (S3 needs at least 5).
    #[arg(long, default_value_t = 8, value_name = "MIB", value_parser = clap::value_parser!(u64).range(5..=5120))]
    pub part_size: u64,
    /// With --download: a mirror whose paths match the official URLs (replaces scheme and host).
    #[arg(long, value_name = "URL", requires = "download")]
    pub download_url: Option<String>,
    /// With --download: a table of files to fetch instead of the embedded one (same format as
    /// templates/data/coco2017.yaml).
    #[arg(long, value_name = "FILE", requires = "download")]
    pub archives: Option<PathBuf>,
    /// With --download: where archives and the extracted tree go (about 40 GB for COCO 2017).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "stackctl-data",
        requires = "download"
    )]
    pub work_dir: PathBuf,
    /// Copy to EFS and import into FSx even when nothing changed since the last time.
    #[arg(long)]
    pub force: bool,
    /// Start the EFS copy and FSx import and return without waiting for them.
    #[arg(long)]
    pub no_wait: bool,
}

/// A data set `--download` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dataset {
    /// COCO 2017 train/val images, annotations, and the ImageNet backbone weights.
    Coco2017,
}

/// Where `data stage` puts the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageTarget {
    /// The data bucket only.
    S3,
    /// EFS, through the stack's DataSync task (from S3; uploads first when given a source).
    Efs,
    /// FSx for Lustre, through an import task (from S3; uploads first when given a source).
    Fsx,
    /// S3, then EFS and FSx when the stack has them.
    All,
}

/// Backbone weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backbone {
    /// ImageNet-R50-AlignPadding.npz (the default backbone).
    R50,
    /// ImageNet-R101-AlignPadding.npz (resnet_arch=resnet101).
    R101,
}

impl Backbone {
    /// `r50` or `r101`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::R50 => "r50",
            Self::R101 => "r101",
        }
    }
}

/// `stackctl plan` options.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Do not contact AWS: only validate, render, check and estimate.
    #[arg(long)]
    pub offline: bool,
    /// Exit with 3 when the stack would change (0: no changes).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `stackctl up` options.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Execute changes that need confirmation (replacing or deleting EFS, FSx, the bucket or
    /// the notebook; IAM changes) without asking. Needed for those without a terminal.
    #[arg(long, short)]
    pub yes: bool,
    /// Turn on termination protection (before the change set runs).
    #[arg(long)]
    pub termination_protection: bool,
    /// Continue a rollback that failed (stack in UPDATE_ROLLBACK_FAILED), then update.
    #[arg(long)]
    pub continue_rollback: bool,
    /// A new stack reuses the data bucket and EFS file system an earlier deployment of the
    /// same name kept (found by their tags), and records that in the stack file
    /// (`data.bucket`, `efs.existing_id`). Nothing happens when none was kept.
    #[arg(long, conflicts_with = "new_data")]
    pub reuse_data: bool,
    /// A new stack creates a new bucket and file system even when an earlier deployment of
    /// the same name kept some (they stay, and keep costing, until `down --delete-data`).
    #[arg(long)]
    pub new_data: bool,
}

/// `stackctl job` commands.
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Submit a training job built from a model profile and the stack's outputs.
    Submit(SubmitArgs),
    /// This stack's training jobs, newest first.
    List {
        /// Look at this many of the account's most recent jobs.
        #[arg(long, default_value_t = 50)]
        max: usize,
    },
    /// A job's status, times, spot savings, final metrics and log location.
    Describe {
        /// Job name.
        name: String,
    },
    /// Wait for a job to end, then print its summary (exit 1 unless it really succeeded).
    Wait {
        /// Job name.
        name: String,
    },
    /// Every host's log lines, merged in time order.
    Logs {
        /// Job name.
        name: String,
        /// Keep reading until the job ends.
        #[arg(long, short)]
        follow: bool,
        /// Only lines of the last DURATION (`90s`, `10m`, `2h`, `1d`).
        #[arg(long, value_name = "DURATION", value_parser = parse_since)]
        since: Option<std::time::Duration>,
        /// Only the last N lines (of those already written; --follow then prints the rest).
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
        /// Only this host's lines (`algo-1`, `algo-2`, ...).
        #[arg(long, value_name = "HOST", value_parser = parse_host)]
        host: Option<String>,
    },
    /// The job's metrics from its logs: latest values, and an SVG plot with --plot.
    Metrics {
        /// Job name.
        name: String,
        /// Write loss and mAP curves to this SVG file.
        #[arg(long, value_name = "FILE")]
        plot: Option<PathBuf>,
        /// Model profile whose regexes to use (default: the job's stackctl:model tag).
        #[arg(long, value_enum)]
        model: Option<JobModel>,
    },
    /// Print the job as a Kubeflow MPIJob manifest for EKS (kubectl apply -f), from the same
    /// profile and overrides as `job submit`. Needs no AWS access.
    Render(RenderJobArgs),
    /// Ask SageMaker to stop a job.
    Stop {
        /// Job name.
        name: String,
    },
}

/// `stackctl job submit` options.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Model profile.
    #[arg(long, value_enum)]
    pub model: JobModel,
    /// Where the training data is read from.
    #[arg(long, value_enum, default_value_t = crate::jobs::request::DataSourceKind::S3)]
    pub data: crate::jobs::request::DataSourceKind,
    /// A hyperparameter override, KEY=VALUE (repeatable); `config:KEY=VALUE` sets a model
    /// config key.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// Instance type, ml.<family>.<size> (default: the stack file's jobs.instance_type).
    #[arg(long, value_name = "TYPE", value_parser = parse_instance_type)]
    pub instance_type: Option<InstanceType>,
    /// Instance count (default: the stack file's jobs.instance_count).
    #[arg(long, value_name = "N")]
    pub instance_count: Option<u32>,
    /// Maximum run time in seconds (default: the stack file's jobs.max_run_seconds).
    #[arg(long, value_name = "SECONDS")]
    pub max_run: Option<u32>,
    /// Use managed spot instances. The tensorpack and aws-samples images save a checkpoint
    /// every epoch and resume from it (the job gets a CheckpointConfig); with the others an
    /// interruption restarts the training. The object-detection profile uses spot by default.
    #[arg(long, conflicts_with = "on_demand")]
    pub spot: bool,
    /// Use on-demand instances even when the profile defaults to spot.
    #[arg(long)]
    pub on_demand: bool,
    /// With spot: longest wait including interruptions, in seconds (default: twice the max
    /// run, at most 28 days); must be at least the max run.
    #[arg(long, value_name = "SECONDS", conflicts_with = "on_demand")]
    pub max_wait: Option<u32>,
    /// Job name (default: <stack>-<model>-<UTC time>).
    #[arg(long)]
    pub name: Option<String>,
    /// Use this EFS or FSx file system instead of the stack's.
    #[arg(long, value_name = "fs-...")]
    pub file_system_id: Option<String>,
    /// Run the checks `job submit` makes before launching (data layout, image, quota), print
    /// the exact CreateTrainingJob request as JSON and create nothing.
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,
    /// Do not check the channel's data before launching (for data staged by other means, e.g.
    /// written to EFS from an instance); the image and quota checks still run.
    #[arg(long)]
    pub skip_data_check: bool,
    /// After submitting, wait for the job as `job wait` does.
    #[arg(long)]
    pub wait: bool,
}

/// `stackctl job render` options.
#[derive(Debug, Args)]
pub struct RenderJobArgs {
    /// What to render.
    #[arg(long, value_enum, default_value_t = RenderTarget::Mpijob)]
    pub target: RenderTarget,
    /// Model profile (those that run as an MPIJob; the built-in object detection algorithm
    /// runs on SageMaker only).
    #[arg(long, value_enum)]
    pub model: MpiJobModel,
    /// A hyperparameter override, KEY=VALUE (repeatable), as for `job submit`.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// Image URI (default: the stack file's jobs.images.<model>).
    #[arg(long, value_name = "URI")]
    pub image: Option<String>,
    /// GPU node type, an EC2 type such as p4d.24xlarge (`ml.` is stripped; default: as for
    /// `job submit`); sets the node selector, GPUs per node and slotsPerWorker.
    #[arg(long, value_name = "TYPE")]
    pub instance_type: Option<String>,
    /// Worker nodes (default: as for `job submit`).
    #[arg(long, value_name = "N")]
    pub instance_count: Option<u32>,
    /// MPIJob name (default: the model's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Kubernetes namespace.
    #[arg(long, default_value = "kubeflow")]
    pub namespace: String,
    /// Shared file system mounted at /fsx or /efs from a persistent volume claim.
    #[arg(long, value_enum, default_value_t = crate::jobs::mpijob::SharedFs::Fsx)]
    pub shared_fs: crate::jobs::mpijob::SharedFs,
    /// Persistent volume claim (default: pv-fsx or pv-efs, as the EKS tutorial names them).
    #[arg(long, value_name = "NAME")]
    pub pvc: Option<String>,
    /// Data path under the mount (default: the profile's data prefix or the stack file's
    /// data.prefix).
    #[arg(long, value_name = "PATH")]
    pub data_path: Option<String>,
    /// runPolicy.backoffLimit.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub backoff_limit: u32,
    /// Write the manifest to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// What `job render` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderTarget {
    /// A kubeflow.org/v2beta1 MPIJob manifest.
    Mpijob,
}

/// Models `job submit` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JobModel {
    /// TensorPack Mask/Faster-RCNN.
    Tensorpack,
    /// aws-samples optimized Mask R-CNN.
    AwsSamples,
    /// Detectron2 on PyTorch (DDP over all GPUs of all instances).
    Detectron2,
    /// The SageMaker built-in object detection algorithm (RecordIO, managed spot).
    ObjectDetection,
}

impl JobModel {
    /// The model's name in stack files and profiles.
    pub fn model(self) -> crate::spec::file::ModelName {
        use crate::spec::file::ModelName;
        match self {
            Self::Tensorpack => ModelName::Tensorpack,
            Self::AwsSamples => ModelName::AwsSamples,
            Self::Detectron2 => ModelName::Detectron2,
            Self::ObjectDetection => ModelName::ObjectDetection,
        }
    }
}

/// Models whose training image `stackctl image` builds (templates/images/<model>/).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageModel {
    /// TensorPack Mask/Faster-RCNN.
    Tensorpack,
    /// aws-samples optimized Mask R-CNN.
    AwsSamples,
}

impl ImageModel {
    /// The model's name in stack files and profiles.
    pub fn model(self) -> crate::spec::file::ModelName {
        match self {
            Self::Tensorpack => JobModel::Tensorpack.model(),
            Self::AwsSamples => JobModel::AwsSamples.model(),
        }
    }
}

/// Models `job render` takes: the profiles with an `mpijob:` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MpiJobModel {
    /// TensorPack Mask/Faster-RCNN.
    Tensorpack,
    /// aws-samples optimized Mask R-CNN.
    AwsSamples,
    /// Detectron2 on PyTorch.
    Detectron2,
}

impl MpiJobModel {
    /// The model's name in stack files and profiles.
    pub fn model(self) -> crate::spec::file::ModelName {
        match self {
            Self::Tensorpack => JobModel::Tensorpack.model(),
            Self::AwsSamples => JobModel::AwsSamples.model(),
            Self::Detectron2 => JobModel::Detectron2.model(),
        }
    }
}

/// `90s`, `10m`, `2h`, `1d` (a number and one unit).
fn parse_since(s: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: a number and s, m, h or d (e.g. 10m)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "`{s}` is not a duration: a number and s, m, h or d (e.g. 10m)"
            ));
        }
    };
    Ok(std::time::Duration::from_secs(secs))
}

/// `algo-N`, as SageMaker names the hosts of a training job.
fn parse_host(s: &str) -> Result<String, String> {
    match s.strip_prefix("algo-") {
        Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => Ok(s.to_owned()),
        _ => Err(format!(
            "`{s}` is not a training host: algo-1, algo-2, ... (as in the log prefix)"
        )),
    }
}

/// A SageMaker instance type, checked as the stack file checks `jobs.instance_type` (same
/// message, same `allowed:` text), so `p3.16xlarge` is refused before any AWS call.
fn parse_instance_type(s: &str) -> Result<InstanceType, String> {
    s.parse::<InstanceType>().map_err(|e| {
        format!(
            "{e}\n  allowed: {}",
            crate::spec::schema::allowed("jobs.instance_type")
        )
    })
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// `stackctl down` options.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Delete without asking (needed without a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// Stop the training jobs that run in the stack's subnets (StopTrainingJob, then wait
    /// until they are Stopped) and delete; without it `down` refuses while any runs.
    #[arg(long)]
    pub force: bool,
    /// Also delete what the stack keeps: the retained EFS file system and the data bucket
    /// with every object in it.
    #[arg(long)]
    pub delete_data: bool,
    /// Longest wait, in seconds, for network interfaces a service of the stack is still
    /// releasing from its subnets after a stalled or failed deletion.
    #[arg(long, default_value_t = 1200, value_name = "SECONDS")]
    pub eni_timeout: u64,
}

/// Formats of `stackctl outputs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputsFormat {
    /// Aligned NAME VALUE lines.
    Table,
    /// One JSON object.
    Json,
    /// `export NAME='value'` lines for `eval`.
    Env,
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::{ImageModel, JobModel, MpiJobModel};
    use crate::jobs::profile::Profile;

    /// `image --model` offers exactly the models with an image template, `job render --model`
    /// exactly the profiles with an `mpijob:` section: the choices follow the templates.
    #[test]
    fn model_choices_follow_the_templates() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/images");
        let mut with_image: Vec<String> = fs_err::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "common")
            .collect();
        with_image.sort();
        let mut offered: Vec<String> = ImageModel::value_variants()
            .iter()
            .map(|m| m.model().as_str().to_owned())
            .collect();
        offered.sort();
        assert_eq!(offered, with_image);

        let with_mpijob: Vec<&str> = JobModel::value_variants()
            .iter()
            .filter(|m| Profile::embedded(m.model()).unwrap().mpijob.is_some())
            .map(|m| m.model().as_str())
            .collect();
        let offered: Vec<&str> = MpiJobModel::value_variants()
            .iter()
            .map(|m| m.model().as_str())
            .collect();
        assert_eq!(offered, with_mpijob);
    }
}
