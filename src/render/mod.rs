//! Renders the CloudFormation template from handlebars sources.
//!
//! The registry runs in strict mode (a missing value is an error, never an empty string) with
//! HTML escaping off. Templates are embedded in the binary; `--templates DIR` replaces any of
//! them with a file of the same relative path under DIR. Only the validated [`StackSpec`]
//! reaches a template, through [`context::StackContext`]. The rendered text is read back and
//! checked ([`check`]) before it is returned.

pub mod check;
pub mod context;

use std::path::{Path, PathBuf};

use handlebars::Handlebars;

use crate::spec::StackSpec;
pub use check::{CheckError, CheckedTemplate, TEMPLATE_BODY_LIMIT};
use context::StackContext;

/// One template source: its registry name and its path under `templates/`.
struct Source {
    name: &'static str,
    path: &'static str,
    embedded: &'static str,
}

macro_rules! sources {
    ($($name:literal => $path:literal),* $(,)?) => {
        const SOURCES: &[Source] = &[$(Source {
            name: $name,
            path: $path,
            embedded: include_str!(concat!("../../templates/", $path)),
        }),*];
    };
}

sources! {
    "stack" => "cloudformation/stack.yaml.hbs",
    "network" => "cloudformation/network.yaml.hbs",
    "security_group" => "cloudformation/security_group.yaml.hbs",
    "data_bucket" => "cloudformation/data_bucket.yaml.hbs",
    "efs" => "cloudformation/efs.yaml.hbs",
    "fsx" => "cloudformation/fsx.yaml.hbs",
    "datasync" => "cloudformation/datasync.yaml.hbs",
    "iam" => "cloudformation/iam.yaml.hbs",
    "notebook" => "cloudformation/notebook.yaml.hbs",
    "outputs" => "cloudformation/outputs.yaml.hbs",
    "on_start" => "notebook/on-start.sh.hbs",
}

/// The largest on-start script SageMaker accepts: 16384 characters once base64-encoded.
pub const ON_START_SCRIPT_LIMIT: usize = 16384 / 4 * 3;

/// Why a template could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// `--templates` does not name a directory.
    #[error("the templates directory `{}` does not exist or is not a directory", .0.display())]
    NoTemplatesDir(PathBuf),
    /// A template file could not be read.
    #[error("cannot read a template")]
    Read(#[source] std::io::Error),
    /// A template does not compile.
    #[error("template `{origin}` does not compile")]
    Compile {
        /// Where the template came from.
        origin: String,
        /// handlebars' error, with line and column.
        #[source]
        source: Box<handlebars::TemplateError>,
    },
    /// Rendering failed (in strict mode, usually a misspelt value).
    #[error("rendering template `{origin}` failed")]
    Render {
        /// Where the failing template came from.
        origin: String,
        /// handlebars' error.
        #[source]
        source: Box<handlebars::RenderError>,
    },
    /// The on-start script is too large for SageMaker.
    #[error(
        "the notebook on-start script is {size} bytes; SageMaker accepts at most {ON_START_SCRIPT_LIMIT} bytes (16384 base64 characters)"
    )]
    ScriptTooLarge {
        /// Size in bytes.
        size: usize,
    },
    /// The rendered text failed the checks.
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// A rendered and checked template.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The template body, ready for CreateStack / CreateChangeSet.
    pub body: String,
    /// What the checks found in it.
    pub checked: CheckedTemplate,
}

/// The handlebars registry with every template and helper loaded.
pub struct Renderer {
    registry: Handlebars<'static>,
    /// Registry name -> where the template came from, for error messages.
    origins: Vec<(&'static str, String)>,
    /// Which templates came from `--templates DIR` (relative paths).
    pub overridden: Vec<&'static str>,
}

/// Template helpers: `yaml` quotes a scalar for YAML, `concat` joins strings, `indent` indents
/// every non-empty line of a block.
pub(crate) mod helpers {
    #![allow(missing_docs)]
    use handlebars::{
        Context, Handlebars, Helper, HelperDef, JsonValue as Json, RenderContext, RenderError,
        RenderErrorReason, ScopedJson, handlebars_helper,
    };

    /// `{{yaml value}}`: a string as a JSON-quoted (so YAML-safe) scalar, numbers and booleans
    /// as they are. A missing value names its path (strict mode).
    pub struct YamlQuote;

    impl HelperDef for YamlQuote {
        fn call_inner<'reg: 'rc, 'rc>(
            &self,
            h: &Helper<'rc>,
            _: &'reg Handlebars<'reg>,
            _: &'rc Context,
            _: &mut RenderContext<'reg, 'rc>,
        ) -> Result<ScopedJson<'rc>, RenderError> {
            let param = h
                .param(0)
                .ok_or(RenderErrorReason::ParamNotFoundForIndex("yaml", 0))?;
            if param.is_value_missing() {
                return Err(
                    RenderErrorReason::MissingVariable(param.relative_path().cloned()).into(),
                );
            }
            let text = match param.value() {
                Json::String(s) => serde_json::to_string(s).unwrap_or_default(),
                Json::Null => {
                    return Err(RenderErrorReason::Other(format!(
                        "`{}` is null; a template must not print a missing value",
                        param.relative_path().map_or("value", String::as_str)
                    ))
                    .into());
                }
                other => other.to_string(),
            };
            Ok(ScopedJson::Derived(Json::String(text)))
        }
    }

    handlebars_helper!(concat: |*args| {
        args.iter()
            .map(|a| match a {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<String>()
    });

    handlebars_helper!(indent: |text: str, width: u64| {
        let pad = " ".repeat(usize::try_from(width).unwrap_or(0));
        text.lines()
            .map(|line| if line.is_empty() { String::new() } else { format!("{pad}{line}") })
            .collect::<Vec<_>>()
            .join("\n")
    });
}

impl Renderer {
    /// Loads the embedded templates, each replaced by `dir/<path>` when that file exists.
    pub fn new(dir: Option<&Path>) -> Result<Self, RenderError> {
        if let Some(dir) = dir
            && !dir.is_dir()
        {
            return Err(RenderError::NoTemplatesDir(dir.to_owned()));
        }
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("yaml", Box::new(helpers::YamlQuote));
        registry.register_helper("concat", Box::new(helpers::concat));
        registry.register_helper("indent", Box::new(helpers::indent));

        let mut overridden = Vec::new();
        let mut origins = Vec::new();
        for source in SOURCES {
            let custom = dir.map(|d| d.join(source.path)).filter(|p| p.is_file());
            let (text, origin) = match &custom {
                Some(path) => {
                    overridden.push(source.path);
                    (
                        fs_err::read_to_string(path).map_err(RenderError::Read)?,
                        path.display().to_string(),
                    )
                }
                None => (
                    source.embedded.to_owned(),
                    format!("<embedded templates/{}>", source.path),
                ),
            };
            registry
                .register_template_string(source.name, text)
                .map_err(|e| RenderError::Compile {
                    origin: origin.clone(),
                    source: Box::new(e),
                })?;
            origins.push((source.name, origin));
        }
        Ok(Self {
            registry,
            origins,
            overridden,
        })
    }

    /// Renders the stack template for `spec` and checks it.
    pub fn render(&self, spec: &StackSpec) -> Result<Rendered, RenderError> {
        let ctx = StackContext::new(spec, |on_start| {
            let script = self.render_one("on_start", on_start)?;
            if script.len() > ON_START_SCRIPT_LIMIT {
                return Err(RenderError::ScriptTooLarge { size: script.len() });
            }
            Ok(script)
        })?;
        let body = self.render_one("stack", &ctx)?;
        let checked = check::check(&body)?;
        Ok(Rendered { body, checked })
    }

    fn render_one(&self, name: &str, ctx: &impl serde::Serialize) -> Result<String, RenderError> {
        self.registry.render(name, ctx).map_err(|e| {
            let failed = e.template_name.as_deref().unwrap_or(name);
            let origin = self
                .origins
                .iter()
                .find(|(n, _)| *n == failed)
                .map_or_else(|| failed.to_owned(), |(_, o)| o.clone());
            RenderError::Render {
                origin,
                source: Box::new(e),
            }
        })
    }
}

/// Relative paths of every template, for documentation and `--templates` users.
pub fn template_paths() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|s| s.path)
}
