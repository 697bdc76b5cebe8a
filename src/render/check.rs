//! Reads a rendered template back and checks it before anything uses it.
//!
//! The checks are the ones a broken partial would fail: the text is YAML with a `Resources`
//! mapping; every resource has an `AWS::` type; every `Ref`, `GetAtt`, `Sub` variable and
//! `DependsOn` names a resource, parameter or pseudo parameter that exists; every output has a
//! value; and the body fits CloudFormation's 51,200-byte `TemplateBody` limit.

use std::collections::BTreeSet;

use serde_yaml::{Mapping, Value};

/// CloudFormation's limit for a template passed inline as `TemplateBody`.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// A template that passed every check.
#[derive(Debug, Clone)]
pub struct CheckedTemplate {
    /// Resources as (logical id, type), in template order.
    pub resources: Vec<(String, String)>,
    /// Output names, in template order.
    pub outputs: Vec<String>,
}

/// Why a rendered template was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The text is not YAML.
    #[error("the rendered template is not valid YAML")]
    Yaml(#[source] serde_yaml::Error),
    /// The body is over CloudFormation's inline limit.
    #[error(
        "the rendered template is {size} bytes; CloudFormation accepts at most {TEMPLATE_BODY_LIMIT} bytes as TemplateBody"
    )]
    TooLarge {
        /// Size in bytes.
        size: usize,
    },
    /// Structural problems.
    #[error("the rendered template has {} problem(s):\n  {}", .0.len(), .0.join("\n  "))]
    Invalid(Vec<String>),
}

/// Parses and checks `body`.
pub fn check(body: &str) -> Result<CheckedTemplate, CheckError> {
    if body.len() > TEMPLATE_BODY_LIMIT {
        return Err(CheckError::TooLarge { size: body.len() });
    }
    let doc: Value = serde_yaml::from_str(body).map_err(CheckError::Yaml)?;
    let mut problems = Vec::new();
    let Some(root) = doc.as_mapping() else {
        return Err(CheckError::Invalid(vec![
            "the template is not a mapping".to_owned(),
        ]));
    };
    let section = |name: &str| root.get(name).and_then(Value::as_mapping);

    let Some(resources) = section("Resources").filter(|r| !r.is_empty()) else {
        return Err(CheckError::Invalid(vec![
            "`Resources` is missing or empty".to_owned(),
        ]));
    };
    let resource_ids: BTreeSet<String> = keys(resources);
    let parameter_ids: BTreeSet<String> = section("Parameters").map(keys).unwrap_or_default();
    let condition_ids: BTreeSet<String> = section("Conditions").map(keys).unwrap_or_default();
    let targets = Targets {
        resources: &resource_ids,
        parameters: &parameter_ids,
        conditions: &condition_ids,
    };

    let mut listed = Vec::new();
    for (id, resource) in resources {
        let id = id.as_str().unwrap_or_default().to_owned();
        let here = format!("Resources.{id}");
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            problems.push(format!("{here}: logical id must be alphanumeric"));
        }
        let ty = resource
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !ty.starts_with("AWS::") || ty.split("::").count() != 3 {
            problems.push(format!("{here}.Type: `{ty}` is not an AWS resource type"));
        }
        match resource.get("DependsOn") {
            None => {}
            Some(Value::String(dep)) => targets.depends_on(&here, dep, &mut problems),
            Some(Value::Sequence(deps)) => {
                for dep in deps {
                    targets.depends_on(&here, dep.as_str().unwrap_or_default(), &mut problems);
                }
            }
            Some(_) => problems.push(format!("{here}.DependsOn: must be a string or a list")),
        }
        if let Some(cond) = resource.get("Condition").and_then(Value::as_str)
            && !condition_ids.contains(cond)
        {
            problems.push(format!("{here}.Condition: `{cond}` is not a condition"));
        }
        if let Some(props) = resource.get("Properties") {
            targets.walk(&format!("{here}.Properties"), props, &mut problems);
        }
        listed.push((id, ty.to_owned()));
    }

    let mut outputs = Vec::new();
    if let Some(section) = section("Outputs") {
        for (name, output) in section {
            let name = name.as_str().unwrap_or_default().to_owned();
            let here = format!("Outputs.{name}");
            match output.get("Value") {
                None | Some(Value::Null) => problems.push(format!("{here}: has no Value")),
                Some(v) => targets.walk(&format!("{here}.Value"), v, &mut problems),
            }
            outputs.push(name);
        }
    }

    if problems.is_empty() {
        Ok(CheckedTemplate {
            resources: listed,
            outputs,
        })
    } else {
        Err(CheckError::Invalid(problems))
    }
}

fn keys(m: &Mapping) -> BTreeSet<String> {
    m.keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect()
}

struct Targets<'a> {
    resources: &'a BTreeSet<String>,
    parameters: &'a BTreeSet<String>,
    conditions: &'a BTreeSet<String>,
}

impl Targets<'_> {
    fn depends_on(&self, here: &str, dep: &str, problems: &mut Vec<String>) {
        if !self.resources.contains(dep) {
            problems.push(format!("{here}.DependsOn: `{dep}` is not a resource"));
        }
    }

    fn check_ref(&self, here: &str, target: &str, problems: &mut Vec<String>) {
        if !(self.resources.contains(target)
            || self.parameters.contains(target)
            || PSEUDO_PARAMETERS.contains(&target))
        {
            problems.push(format!(
                "{here}: Ref target `{target}` is not a resource, parameter or pseudo parameter"
            ));
        }
    }

    fn check_get_att(&self, here: &str, arg: &Value, problems: &mut Vec<String>) {
        let (resource, attribute) = match arg {
            Value::String(s) => match s.split_once('.') {
                Some((r, a)) => (r.to_owned(), a.to_owned()),
                None => (s.clone(), String::new()),
            },
            Value::Sequence(seq) if seq.len() == 2 => (
                seq[0].as_str().unwrap_or_default().to_owned(),
                seq[1].as_str().unwrap_or("?").to_owned(),
            ),
            _ => (String::new(), String::new()),
        };
        if resource.is_empty() || attribute.is_empty() {
            problems.push(format!("{here}: GetAtt needs RESOURCE.ATTRIBUTE"));
        } else if !self.resources.contains(&resource) {
            problems.push(format!(
                "{here}: GetAtt target `{resource}` is not a resource"
            ));
        }
    }

    fn check_sub(&self, here: &str, arg: &Value, problems: &mut Vec<String>) {
        let (text, locals) = match arg {
            Value::String(s) => (s.as_str(), BTreeSet::new()),
            Value::Sequence(seq) if seq.len() == 2 => {
                let locals = seq[1].as_mapping().map(keys).unwrap_or_default();
                self.walk(here, &seq[1], problems);
                (seq[0].as_str().unwrap_or_default(), locals)
            }
            _ => {
                problems.push(format!("{here}: Sub needs a string or [string, map]"));
                return;
            }
        };
        for var in sub_variables(text) {
            if locals.contains(var) {
                continue;
            }
            match var.split_once('.') {
                Some((resource, _)) if !var.starts_with("AWS::") => {
                    if !self.resources.contains(resource) {
                        problems.push(format!(
                            "{here}: Sub variable `${{{var}}}` names no resource"
                        ));
                    }
                }
                _ => self.check_ref(here, var, problems),
            }
        }
    }

    /// Checks every intrinsic function below `value`.
    fn walk(&self, here: &str, value: &Value, problems: &mut Vec<String>) {
        match value {
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let tag = tag.trim_start_matches('!');
                self.intrinsic(here, tag, &tagged.value, problems);
            }
            Value::Mapping(m) => {
                if m.len() == 1
                    && let Some((Value::String(k), v)) = m.iter().next()
                    && (k == "Ref" || k.starts_with("Fn::") || k == "Condition")
                {
                    let name = k.trim_start_matches("Fn::");
                    self.intrinsic(here, name, v, problems);
                    return;
                }
                for (k, v) in m {
                    let key = k.as_str().unwrap_or("?");
                    self.walk(&format!("{here}.{key}"), v, problems);
                }
            }
            Value::Sequence(seq) => {
                for (i, v) in seq.iter().enumerate() {
                    self.walk(&format!("{here}[{i}]"), v, problems);
                }
            }
            _ => {}
        }
    }

    fn intrinsic(&self, here: &str, name: &str, arg: &Value, problems: &mut Vec<String>) {
        match name {
            "Ref" => match arg.as_str() {
                Some(target) => self.check_ref(here, target, problems),
                None => problems.push(format!("{here}: Ref needs a name")),
            },
            "GetAtt" => self.check_get_att(here, arg, problems),
            "Sub" => self.check_sub(here, arg, problems),
            "Condition" => {
                if let Some(c) = arg.as_str()
                    && !self.conditions.contains(c)
                {
                    problems.push(format!("{here}: `{c}` is not a condition"));
                }
            }
            _ => self.walk(here, arg, problems),
        }
    }
}

/// The `${...}` variables of a `Fn::Sub` string; `${!Literal}` is not a variable.
fn sub_variables(text: &str) -> Vec<&str> {
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = after[..end].trim();
        if !var.starts_with('!') {
            vars.push(var);
        }
        rest = &after[end + 1..];
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
  Subnet:
    Type: AWS::EC2::Subnet
    DependsOn: Vpc
    Properties:
      VpcId: !Ref Vpc
      AvailabilityZone: !Select [0, !GetAZs ""]
      Tags:
        - Key: Name
          Value: !Sub "${AWS::StackName}-${Vpc}-${!Literal}"
Outputs:
  VpcId:
    Value: {"Fn::GetAtt": [Vpc, VpcId]}
"#;

    #[test]
    fn accepts_a_consistent_template() {
        let t = check(GOOD).unwrap();
        assert_eq!(t.resources.len(), 2);
        assert_eq!(t.outputs, ["VpcId"]);
    }

    #[test]
    fn reports_dangling_references() {
        let bad = GOOD
            .replace("!Ref Vpc", "!Ref Vcp")
            .replace("DependsOn: Vpc", "DependsOn: Nope")
            .replace("${Vpc}", "${Gone.Arn}")
            .replace("[Vpc, VpcId]", "[Missing, VpcId]");
        let Err(CheckError::Invalid(problems)) = check(&bad) else {
            panic!("expected problems");
        };
        let all = problems.join("\n");
        for needle in ["`Vcp`", "`Nope`", "`${Gone.Arn}`", "`Missing`"] {
            assert!(all.contains(needle), "{needle} not in {all}");
        }
    }

    #[test]
    fn rejects_oversized_and_non_yaml_bodies() {
        let big = format!("{GOOD}\n#{}", "x".repeat(TEMPLATE_BODY_LIMIT));
        assert!(matches!(check(&big), Err(CheckError::TooLarge { .. })));
        assert!(matches!(check("a: [b"), Err(CheckError::Yaml(_))));
        assert!(matches!(
            check("Resources: {}"),
            Err(CheckError::Invalid(_))
        ));
    }
}
