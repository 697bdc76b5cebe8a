//! Model profiles: what a training image needs, as data (`templates/jobs/<model>.yaml`,
//! embedded): the default image repository, instance defaults, data channels, the
//! hyperparameter schema and the metric definitions.
//!
//! Hyperparameter overrides (`-p key=value`) are checked here against the schema and against
//! SageMaker's limits before any call, with a did-you-mean for unknown names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::file::ModelName;

/// SageMaker allows at most this many hyperparameters per job.
pub const MAX_HYPERPARAMETERS: usize = 100;
/// Longest hyperparameter name SageMaker accepts.
pub const MAX_HYPERPARAMETER_NAME: usize = 256;
/// Longest hyperparameter value SageMaker accepts.
pub const MAX_HYPERPARAMETER_VALUE: usize = 2500;
/// SageMaker allows at most this many metric definitions per job.
pub const MAX_METRICS: usize = 40;

/// A model profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Model name (`tensorpack`, `aws-samples`).
    pub name: String,
    /// One line about the model.
    pub description: String,
    /// The default image.
    pub image: ImageDefault,
    /// Instance defaults.
    pub instance: InstanceDefaults,
    /// Data channels by name.
    pub channels: BTreeMap<String, Channel>,
    /// Whether `config:KEY` hyperparameters pass through to the model config.
    pub config_passthrough: bool,
    /// The hyperparameter schema.
    pub hyperparameters: Vec<Hyperparameter>,
    /// Metric definitions (name and regex), as SageMaker takes them.
    pub metrics: Vec<Metric>,
    /// What the training data channel must hold (checked by `stackctl data`).
    pub data_layout: DataLayout,
    /// The model's own data prefix in the bucket, instead of the stack's `DataPrefix`.
    #[serde(default)]
    pub data_prefix: Option<String>,
    /// Managed spot by default (`--on-demand` turns it off).
    #[serde(default)]
    pub spot: bool,
    /// Whether the image writes checkpoints to /opt/ml/checkpoints and resumes from them (a
    /// spot job then gets a CheckpointConfig).
    #[serde(default)]
    pub checkpoints: bool,
    /// Groups of hyperparameters of which a job sets exactly one (e.g. `config-file` or
    /// `local-config-file`).
    #[serde(default)]
    pub exactly_one_of: Vec<Vec<String>>,
    /// How the model runs as a Kubeflow MPIJob on EKS (none: SageMaker only).
    #[serde(default)]
    pub mpijob: Option<super::mpijob::MpiJobProfile>,
}

/// What a model's training channel must hold, relative to the data prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataLayout {
    /// Files that must exist (`annotations/instances_train2017.json`).
    pub files: Vec<String>,
    /// Folders that must hold at least one file (`train2017`).
    pub folders: Vec<String>,
}

impl DataLayout {
    /// The top-level folder names this layout uses.
    pub fn top_level(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .files
            .iter()
            .chain(&self.folders)
            .filter_map(|p| p.split('/').next())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The default image: a repository in the caller's account and region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDefault {
    /// ECR repository name.
    pub repository: String,
    /// Tag.
    pub tag: String,
    /// A table of per-region registry accounts (templates/jobs/registries.yaml) for images
    /// AWS publishes (built-in algorithms); without it, the caller's own account.
    #[serde(default)]
    pub registry: Option<String>,
}

/// Instance defaults of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceDefaults {
    /// Instance type.
    #[serde(rename = "type")]
    pub instance_type: String,
    /// Instance count.
    pub count: u32,
    /// Volume size per instance.
    pub volume_gib: u32,
    /// Maximum run time.
    pub max_run_seconds: u32,
}

/// One data channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// Whether a job needs it.
    pub required: bool,
    /// What it holds.
    pub description: String,
    /// Sub-path under the data prefix (none: the prefix itself).
    #[serde(default)]
    pub path: Option<String>,
    /// The channel's ContentType (e.g. `application/x-recordio`).
    #[serde(default)]
    pub content_type: Option<String>,
    /// The only data source the channel can come from (e.g. `s3` for RecordIO files).
    #[serde(default)]
    pub only_from: Option<crate::jobs::request::DataSourceKind>,
}

/// The type names a profile file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeName {
    /// `True` or `False`.
    Bool,
    /// An integer (`min`, `max` optional).
    Int,
    /// One of `allowed`.
    Enum,
    /// Any text.
    String,
    /// `[a, b, c]`.
    IntList,
    /// `[(epoch, rate), ..., (epoch, None)]`.
    EpochSchedule,
    /// A decimal number (`min`, `max` optional, exclusive with `min_exclusive`/`max_exclusive`).
    Float,
    /// `a,b,c`: increasing positive integers separated by commas.
    IntCsv,
    /// `KEY VALUE KEY VALUE ...`: whitespace-separated pairs (an even count).
    KeyValuePairs,
}

/// The type of a hyperparameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// `True` or `False` (Python spelling, as the images parse it).
    Bool,
    /// An integer, optionally bounded.
    Int {
        /// Smallest value.
        min: Option<i64>,
        /// Largest value.
        max: Option<i64>,
    },
    /// One of a list.
    Enum {
        /// Allowed values.
        allowed: Vec<String>,
    },
    /// Any text.
    String,
    /// `[a, b, c]`: increasing positive integers.
    IntList,
    /// `[(epoch, rate), ..., (epoch, None)]`.
    EpochSchedule,
    /// A decimal number within bounds.
    Float {
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
        /// The lower bound itself is not allowed.
        min_exclusive: bool,
        /// The upper bound itself is not allowed.
        max_exclusive: bool,
    },
    /// `a,b,c`.
    IntCsv,
    /// `KEY VALUE ...` pairs.
    KeyValuePairs,
}

/// One hyperparameter of the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hyperparameter {
    /// Name.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub type_name: TypeName,
    /// Smallest value (int, float).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest value (int, float).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `min` itself is not allowed (float).
    #[serde(default)]
    pub min_exclusive: bool,
    /// `max` itself is not allowed (float).
    #[serde(default)]
    pub max_exclusive: bool,
    /// Allowed values (enum).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Default (sent when not overridden); none means optional and not sent.
    #[serde(default)]
    pub default: Option<String>,
    /// What it does.
    pub description: String,
}

impl Hyperparameter {
    /// The value type, with its bounds.
    pub fn kind(&self) -> ParamType {
        match self.type_name {
            TypeName::Bool => ParamType::Bool,
            TypeName::Int => ParamType::Int {
                min: self.min.map(|m| m as i64),
                max: self.max.map(|m| m as i64),
            },
            TypeName::Float => ParamType::Float {
                min: self.min,
                max: self.max,
                min_exclusive: self.min_exclusive,
                max_exclusive: self.max_exclusive,
            },
            TypeName::IntCsv => ParamType::IntCsv,
            TypeName::KeyValuePairs => ParamType::KeyValuePairs,
            TypeName::Enum => ParamType::Enum {
                allowed: self.allowed.clone(),
            },
            TypeName::String => ParamType::String,
            TypeName::IntList => ParamType::IntList,
            TypeName::EpochSchedule => ParamType::EpochSchedule,
        }
    }
}

/// A metric definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// Metric name.
    pub name: String,
    /// Regex with one capture group for the value.
    pub regex: String,
}

/// Why a profile or an override is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The profile file does not parse or breaks a rule.
    #[error("model profile `{model}` is invalid: {message}")]
    Invalid {
        /// Model.
        model: String,
        /// What is wrong.
        message: String,
    },
    /// Hyperparameter overrides break the schema or SageMaker's limits.
    #[error("invalid hyperparameters for model `{model}`:\n  {}", .problems.join("\n  "))]
    Hyperparameters {
        /// Model.
        model: String,
        /// One line per problem.
        problems: Vec<String>,
    },
}

const TENSORPACK: &str = include_str!("../../templates/jobs/tensorpack.yaml");
const AWS_SAMPLES: &str = include_str!("../../templates/jobs/aws-samples.yaml");
const DETECTRON2: &str = include_str!("../../templates/jobs/detectron2.yaml");
const OBJECT_DETECTION: &str = include_str!("../../templates/jobs/object-detection.yaml");

impl Profile {
    /// The embedded profile of a model.
    pub fn embedded(model: ModelName) -> Result<Self, ProfileError> {
        let text = match model {
            ModelName::Tensorpack => TENSORPACK,
            ModelName::AwsSamples => AWS_SAMPLES,
            ModelName::Detectron2 => DETECTRON2,
            ModelName::ObjectDetection => OBJECT_DETECTION,
        };
        Self::parse(text)
    }

    /// Parses and checks a profile.
    pub fn parse(text: &str) -> Result<Self, ProfileError> {
        let profile: Profile = serde_yaml::from_str(text).map_err(|e| ProfileError::Invalid {
            model: "?".to_owned(),
            message: e.to_string(),
        })?;
        profile.check()?;
        Ok(profile)
    }

    fn check(&self) -> Result<(), ProfileError> {
        let fail = |message: String| {
            Err(ProfileError::Invalid {
                model: self.name.clone(),
                message,
            })
        };
        for path in self
            .data_layout
            .files
            .iter()
            .chain(&self.data_layout.folders)
        {
            if path.is_empty()
                || path.starts_with('/')
                || path.ends_with('/')
                || path
                    .split('/')
                    .any(|c| c.is_empty() || c == "." || c == "..")
            {
                return fail(format!(
                    "data_layout path `{path}` must be relative, without `.`, `..` or a trailing `/`"
                ));
            }
        }
        if self.metrics.len() > MAX_METRICS {
            return fail(format!(
                "{} metric definitions; SageMaker allows {MAX_METRICS}",
                self.metrics.len()
            ));
        }
        for m in &self.metrics {
            let compiled = regex_lite::Regex::new(&m.regex);
            match compiled {
                Err(e) => return fail(format!("metric `{}`: regex does not compile: {e}", m.name)),
                Ok(r) if r.captures_len() != 2 => {
                    return fail(format!(
                        "metric `{}`: the regex needs exactly one capture group",
                        m.name
                    ));
                }
                Ok(_) => {}
            }
            if m.name.is_empty() || m.name.len() > 255 || m.regex.len() > 500 {
                return fail(format!(
                    "metric `{}`: name 1-255 and regex at most 500 characters",
                    m.name
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for h in &self.hyperparameters {
            if !names.insert(h.name.as_str()) {
                return fail(format!("hyperparameter `{}` is listed twice", h.name));
            }
            let bounded = h.min.is_some() || h.max.is_some();
            if (bounded && !matches!(h.type_name, TypeName::Int | TypeName::Float))
                || ((h.min_exclusive || h.max_exclusive) && h.type_name != TypeName::Float)
                || h.allowed.is_empty() == (h.type_name == TypeName::Enum)
            {
                return fail(format!(
                    "hyperparameter `{}`: min/max belong to int and float, *_exclusive to float, allowed (non-empty) to enum",
                    h.name
                ));
            }
            if let Some(default) = &h.default
                && let Err(why) = check_value(&h.kind(), default)
            {
                return fail(format!("the default of `{}` is invalid: {why}", h.name));
            }
        }
        if !self.channels.values().any(|c| c.required) {
            return fail("a profile needs a required channel".to_owned());
        }
        for group in &self.exactly_one_of {
            for name in group {
                if !names.contains(name.as_str()) {
                    return fail(format!(
                        "exactly_one_of names `{name}`, which is not a hyperparameter"
                    ));
                }
            }
            let defaults = group
                .iter()
                .filter(|n| {
                    self.hyperparameters
                        .iter()
                        .any(|h| &h.name == *n && h.default.is_some())
                })
                .count();
            if defaults > 1 {
                return fail(format!(
                    "exactly_one_of {group:?}: at most one may have a default"
                ));
            }
        }
        Ok(())
    }

    /// The hyperparameters a job sends: every default, then the overrides, checked against the
    /// schema and SageMaker's limits. All problems are reported at once.
    pub fn hyperparameters(
        &self,
        overrides: &[(String, String)],
    ) -> Result<BTreeMap<String, String>, ProfileError> {
        let mut values: BTreeMap<String, String> = self
            .hyperparameters
            .iter()
            .filter_map(|h| h.default.clone().map(|d| (h.name.clone(), d)))
            .collect();
        let mut problems = Vec::new();
        for (name, value) in overrides {
            if let Some(key) = name.strip_prefix("config:") {
                if !self.config_passthrough {
                    problems.push(format!(
                        "`{name}`: model `{}` takes no config: pass-through",
                        self.name
                    ));
                } else if key.is_empty()
                    || !key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                {
                    problems.push(format!(
                        "`{name}`: a config key is letters, digits, `_` and `.` (e.g. config:TRAIN.GRADIENT_CLIP)"
                    ));
                }
            } else {
                match self.hyperparameters.iter().find(|h| h.name == *name) {
                    None => problems.push(unknown(
                        name,
                        &self.hyperparameters,
                        self.config_passthrough,
                    )),
                    Some(h) => {
                        if let Err(why) = check_value(&h.kind(), value) {
                            problems.push(format!("`{name}={value}`: {why}"));
                        }
                    }
                }
            }
            if name.len() > MAX_HYPERPARAMETER_NAME {
                problems.push(format!(
                    "`{name}`: names are at most {MAX_HYPERPARAMETER_NAME} characters"
                ));
            }
            if value.len() > MAX_HYPERPARAMETER_VALUE {
                problems.push(format!(
                    "`{name}`: values are at most {MAX_HYPERPARAMETER_VALUE} characters"
                ));
            }
            values.insert(name.clone(), value.clone());
        }
        for group in &self.exactly_one_of {
            // Setting one member replaces another member's default.
            let chosen: Vec<&String> = group
                .iter()
                .filter(|n| overrides.iter().any(|(o, _)| o == *n))
                .collect();
            if !chosen.is_empty() {
                for name in group {
                    if !chosen.contains(&name) {
                        values.remove(name);
                    }
                }
            }
            let set: Vec<&str> = group
                .iter()
                .filter(|n| values.contains_key(*n))
                .map(String::as_str)
                .collect();
            if set.len() != 1 {
                problems.push(format!(
                    "set exactly one of {} (set: {})",
                    group
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if set.is_empty() {
                        "none".to_owned()
                    } else {
                        set.join(", ")
                    }
                ));
            }
        }
        if values.len() > MAX_HYPERPARAMETERS {
            problems.push(format!(
                "{} hyperparameters; SageMaker allows {MAX_HYPERPARAMETERS}",
                values.len()
            ));
        }
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(ProfileError::Hyperparameters {
                model: self.name.clone(),
                problems,
            })
        }
    }
}

/// "unknown hyperparameter `lr_shedule`; did you mean `lr_schedule`?"
fn unknown(name: &str, schema: &[Hyperparameter], passthrough: bool) -> String {
    let known: Vec<&str> = schema.iter().map(|h| h.name.as_str()).collect();
    let mut text = format!("unknown hyperparameter `{name}`");
    if let Some(candidate) = crate::suggest::closest(name, known.iter().copied(), 0.8) {
        text.push_str(&format!("; did you mean `{candidate}`?"));
    }
    text.push_str(&format!(" (known: {}", known.join(", ")));
    if passthrough {
        text.push_str("; or config:KEY for a model config key");
    }
    text.push(')');
    text
}

/// Checks one value against its type.
pub fn check_value(kind: &ParamType, value: &str) -> Result<(), String> {
    match kind {
        ParamType::Bool => match value {
            "True" | "False" => Ok(()),
            _ => Err("expected True or False".to_owned()),
        },
        ParamType::Int { min, max } => {
            let n: i64 = value
                .parse()
                .map_err(|_| "expected an integer".to_owned())?;
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                let lo = min.map_or("..".to_owned(), |m| m.to_string());
                let hi = max.map_or(String::new(), |m| m.to_string());
                return Err(format!("out of range: allowed is {lo}..={hi}").replace("....=", "..="));
            }
            Ok(())
        }
        ParamType::Enum { allowed } => {
            if allowed.iter().any(|a| a == value) {
                Ok(())
            } else {
                Err(format!("expected one of {}", allowed.join(", ")))
            }
        }
        ParamType::String => {
            if value.is_empty() {
                Err("expected a non-empty value".to_owned())
            } else {
                Ok(())
            }
        }
        ParamType::IntList => {
            let inner = value
                .trim()
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or("expected [a, b, ...]")?;
            let numbers: Result<Vec<u64>, _> =
                inner.split(',').map(|n| n.trim().parse::<u64>()).collect();
            let numbers = numbers.map_err(|_| {
                "expected positive integers, e.g. [240000, 320000, 360000]".to_owned()
            })?;
            if numbers.is_empty() || numbers.windows(2).any(|w| w[0] >= w[1]) || numbers[0] == 0 {
                return Err(
                    "expected increasing positive integers, e.g. [240000, 320000, 360000]"
                        .to_owned(),
                );
            }
            Ok(())
        }
        ParamType::Float {
            min,
            max,
            min_exclusive,
            max_exclusive,
        } => {
            let x: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| "expected a number".to_owned())?;
            let below = min.is_some_and(|m| if *min_exclusive { x <= m } else { x < m });
            let above = max.is_some_and(|m| if *max_exclusive { x >= m } else { x > m });
            if below || above {
                let lo = min.map_or("-inf".to_owned(), |m| m.to_string());
                let hi = max.map_or("inf".to_owned(), |m| m.to_string());
                return Err(format!(
                    "out of range: allowed is {}{lo}, {hi}{}",
                    if *min_exclusive { '(' } else { '[' },
                    if *max_exclusive { ')' } else { ']' }
                ));
            }
            Ok(())
        }
        ParamType::IntCsv => {
            let shape = "expected increasing positive integers separated by commas, e.g. 3,6";
            let numbers: Result<Vec<u64>, _> =
                value.split(',').map(|n| n.trim().parse::<u64>()).collect();
            let numbers = numbers.map_err(|_| shape.to_owned())?;
            if numbers.is_empty() || numbers[0] == 0 || numbers.windows(2).any(|w| w[0] >= w[1]) {
                return Err(shape.to_owned());
            }
            Ok(())
        }
        ParamType::KeyValuePairs => {
            let words: Vec<&str> = value.split_whitespace().collect();
            if words.is_empty() {
                return Err("expected KEY VALUE pairs, e.g. SOLVER.MAX_ITER 20000".to_owned());
            }
            if !words.len().is_multiple_of(2) {
                return Err(format!(
                    "expected KEY VALUE pairs: {} words is an odd count (`{}` has no value)",
                    words.len(),
                    words[words.len() - 1]
                ));
            }
            if let Some(bad) = words.iter().step_by(2).find(|k| {
                !k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            }) {
                return Err(format!(
                    "`{bad}` is not a config key (letters, digits, `_` and `.`, e.g. SOLVER.BASE_LR)"
                ));
            }
            Ok(())
        }
        ParamType::EpochSchedule => {
            let shape = "expected [(epoch, rate), ..., (last epoch, None)], e.g. [(16, 0.1), (20, 0.01), (24, None)]";
            let inner = value
                .trim()
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or(shape)?;
            let pairs: Vec<&str> = inner
                .split(')')
                .map(|p| p.trim().trim_start_matches(',').trim())
                .filter(|p| !p.is_empty())
                .collect();
            let mut last_epoch = 0u64;
            for (i, pair) in pairs.iter().enumerate() {
                let body = pair.strip_prefix('(').ok_or(shape)?;
                let (epoch, rate) = body.split_once(',').ok_or(shape)?;
                let epoch: u64 = epoch.trim().parse().map_err(|_| shape.to_owned())?;
                if epoch <= last_epoch {
                    return Err(format!("{shape}; epochs must increase"));
                }
                last_epoch = epoch;
                let rate = rate.trim();
                let is_last = i + 1 == pairs.len();
                let ok = if is_last {
                    rate == "None"
                } else {
                    rate.parse::<f64>().is_ok_and(|r| r > 0.0)
                };
                if !ok {
                    return Err(shape.to_owned());
                }
            }
            if pairs.is_empty() {
                return Err(shape.to_owned());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensorpack() -> Profile {
        Profile::embedded(ModelName::Tensorpack).unwrap()
    }

    /// The seed notebook's metric definitions, read from the seed itself.
    fn seed_metrics() -> Vec<(String, String)> {
        let seed = include_str!("../../tests/fixtures/seed-000-metric-definitions.txt");
        let names: Vec<String> = seed
            .lines()
            .filter_map(|l| l.trim().strip_prefix("\"Name\": \""))
            .map(|l| l.trim_end_matches(['"', ','].as_ref()).to_owned())
            .collect();
        let regexes: Vec<String> = seed
            .lines()
            .filter_map(|l| l.trim().strip_prefix("\"Regex\": \""))
            .map(|l| l.trim_end_matches('"').replace("\\\\", "\\"))
            .collect();
        names.into_iter().zip(regexes).collect()
    }

    #[test]
    fn every_model_has_a_valid_embedded_profile() {
        for model in [
            ModelName::Tensorpack,
            ModelName::AwsSamples,
            ModelName::Detectron2,
            ModelName::ObjectDetection,
        ] {
            let p = Profile::embedded(model).unwrap();
            assert!(
                p.hyperparameters(&[]).is_ok(),
                "{model:?}: defaults must pass"
            );
        }
    }

    #[test]
    fn detectron2_metrics_read_its_log_line() {
        let p = Profile::embedded(ModelName::Detectron2).unwrap();
        // A CommonMetricPrinter line as detectron2 writes it.
        let line = "[11/22 03:10:00 d2.utils.events]:  eta: 1 day, 2:03:04  iter: 19  total_loss: 2.136  loss_cls: 0.7542  loss_box_reg: 0.1017  loss_mask: 0.6921  loss_rpn_cls: 0.4805  loss_rpn_loc: 0.1071  time: 0.4413  data_time: 0.0119  lr: 0.00039962  max_mem: 3200M";
        let got: Vec<(String, String)> = p
            .metrics
            .iter()
            .map(|m| {
                let r = regex_lite::Regex::new(&m.regex).unwrap();
                (m.name.clone(), r.captures(line).unwrap()[1].to_owned())
            })
            .collect();
        let want = [
            ("total_loss", "2.136"),
            ("loss_cls", "0.7542"),
            ("loss_box_reg", "0.1017"),
            ("loss_mask", "0.6921"),
            ("loss_rpn_cls", "0.4805"),
            ("loss_rpn_loc", "0.1071"),
            ("lr", "0.00039962"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    }

    #[test]
    fn float_csv_and_pairs_values() {
        let float = ParamType::Float {
            min: Some(0.0),
            max: Some(1.0),
            min_exclusive: true,
            max_exclusive: false,
        };
        assert!(check_value(&float, "1").is_ok());
        assert!(check_value(&float, "0.5").is_ok());
        assert_eq!(
            check_value(&float, "0").unwrap_err(),
            "out of range: allowed is (0, 1]"
        );
        assert!(check_value(&float, "NaN").is_err());
        assert!(check_value(&ParamType::IntCsv, "3,6").is_ok());
        assert!(check_value(&ParamType::IntCsv, "3,,6").is_err());
        assert!(check_value(&ParamType::KeyValuePairs, "A.B 1 C 2").is_ok());
        assert!(check_value(&ParamType::KeyValuePairs, "A.B 1 C").is_err());
        assert!(check_value(&ParamType::KeyValuePairs, "a-b 1").is_err());
    }

    #[test]
    fn both_profiles_carry_the_seed_metrics_exactly() {
        let seed = seed_metrics();
        assert_eq!(seed.len(), 22);
        for model in [ModelName::Tensorpack, ModelName::AwsSamples] {
            let p = Profile::embedded(model).unwrap();
            let ours: Vec<(String, String)> = p
                .metrics
                .iter()
                .map(|m| (m.name.clone(), m.regex.clone()))
                .collect();
            assert_eq!(ours, seed, "{model:?}");
            assert_eq!(p.instance.instance_type, "ml.p3.16xlarge");
            assert_eq!(
                (
                    p.instance.count,
                    p.instance.volume_gib,
                    p.instance.max_run_seconds
                ),
                (4, 100, 400_000)
            );
        }
    }

    #[test]
    fn metric_regexes_extract_values_from_log_lines() {
        let p = tensorpack();
        let line = "[1121 10:00:00 @monitor.py:467] mAP(bbox)/IoU=0.5:0.95: 0.3741";
        let hits: Vec<(&str, String)> = p
            .metrics
            .iter()
            .filter_map(|m| {
                let r = regex_lite::Regex::new(&m.regex).unwrap();
                r.captures(line).map(|c| (m.name.as_str(), c[1].to_owned()))
            })
            .collect();
        // The seed's `mAP(bbox)/IoU=0.5` regex also matches the IoU=0.5:0.95 line and captures
        // "0.95:". The list is kept exactly as the seed has it; whoever reads values from logs
        // must keep numeric captures only.
        assert_eq!(
            hits,
            [
                ("mAP(bbox)/IoU=0.5", "0.95:".to_owned()),
                ("mAP(bbox)/IoU=0.5:0.95", "0.3741".to_owned())
            ]
        );
        let numeric: Vec<_> = hits
            .iter()
            .filter(|(_, v)| v.parse::<f64>().is_ok())
            .collect();
        assert_eq!(numeric, [&("mAP(bbox)/IoU=0.5:0.95", "0.3741".to_owned())]);
    }

    #[test]
    fn defaults_and_overrides() {
        let p = tensorpack();
        let values = p
            .hyperparameters(&[
                ("batch_norm".into(), "SyncBN".into()),
                ("config:TRAIN.GRADIENT_CLIP".into(), "0.36".into()),
                ("lr_schedule".into(), "[1000, 2000]".into()),
            ])
            .unwrap();
        assert_eq!(values["mode_fpn"], "True");
        assert_eq!(values["batch_norm"], "SyncBN");
        assert_eq!(values["config:TRAIN.GRADIENT_CLIP"], "0.36");
        assert!(
            !values.contains_key("load_model"),
            "optional without default is not sent"
        );
    }

    #[test]
    fn bad_overrides_are_all_reported_with_a_did_you_mean() {
        let p = tensorpack();
        let err = p
            .hyperparameters(&[
                ("lr_shedule".into(), "[1, 2]".into()),
                ("batch_norm".into(), "BatchNorm".into()),
                ("eval_period".into(), "0".into()),
                ("mode_fpn".into(), "yes".into()),
                ("lr_schedule".into(), "[3, 2]".into()),
                ("resnet_arch".into(), "resnet152".into()),
                ("config:".into(), "1".into()),
            ])
            .unwrap_err()
            .to_string();
        for needle in [
            "unknown hyperparameter `lr_shedule`; did you mean `lr_schedule`?",
            "`batch_norm=BatchNorm`: expected one of FreezeBN, SyncBN, GN, None",
            "`eval_period=0`: out of range: allowed is 1..=",
            "`mode_fpn=yes`: expected True or False",
            "`lr_schedule=[3, 2]`: expected increasing",
            "`resnet_arch=resnet152`: expected one of resnet50, resnet101",
            "`config:`: a config key",
        ] {
            assert!(err.contains(needle), "{needle} not in:\n{err}");
        }
    }

    #[test]
    fn aws_samples_schema() {
        let p = Profile::embedded(ModelName::AwsSamples).unwrap();
        let ok = p
            .hyperparameters(&[("batch_size_per_gpu".into(), "2".into())])
            .unwrap();
        assert_eq!(
            ok["lr_epoch_schedule"],
            "[(16, 0.1), (20, 0.01), (24, None)]"
        );
        assert_eq!(ok["data_train"], "train2017");
        let err = p
            .hyperparameters(&[
                ("batch_size_per_gpu".into(), "5".into()),
                ("lr_epoch_schedule".into(), "[(16, 0.1), (12, None)]".into()),
                ("data_val".into(), "val2017".into()),
            ])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`batch_size_per_gpu=5`: out of range: allowed is 1..=4"),
            "{err}"
        );
        assert!(err.contains("epochs must increase"), "{err}");
        assert!(err.contains("unknown hyperparameter `data_val`"), "{err}");
    }

    #[test]
    fn limits_of_sagemaker_are_enforced() {
        let p = tensorpack();
        let many: Vec<(String, String)> = (0..100)
            .map(|i| (format!("config:K{i}"), "1".to_owned()))
            .collect();
        let err = p.hyperparameters(&many).unwrap_err().to_string();
        assert!(
            err.contains("hyperparameters; SageMaker allows 100"),
            "{err}"
        );
        let long = p
            .hyperparameters(&[("data_train".into(), "x".repeat(2501))])
            .unwrap_err()
            .to_string();
        assert!(long.contains("values are at most 2500"), "{long}");
        let broken = TENSORPACK.replace(r"(\S+)", r"\S+");
        assert!(
            Profile::parse(&broken)
                .unwrap_err()
                .to_string()
                .contains("one capture group")
        );
    }
}
