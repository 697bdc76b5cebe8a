//! What CloudFormation keeps when the stack is deleted, decided from the deployed template's
//! `DeletionPolicy` attributes. Strict and fail-closed: a template that cannot be read, a
//! resource it does not list, or a policy this code does not know keeps the resource, and the
//! report says why.
//!
//! The CloudFormation user guide ("DeletionPolicy attribute") lists four policies: `Delete`
//! (the default for most types), `Retain`, `RetainExceptOnCreate` ("behaves like Retain for
//! stack operations, except for the stack operation that initially created the resource", so
//! DeleteStack keeps it) and `Snapshot` (a snapshot is taken, then the resource is deleted).

use serde_yaml::Value;

/// How the stack deletion treats one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    /// No policy or `Delete`: CloudFormation deletes it, and so may the sweep.
    Delete,
    /// `Retain`: kept.
    Retain,
    /// `RetainExceptOnCreate`: kept by DeleteStack.
    RetainExceptOnCreate,
    /// `Snapshot`: CloudFormation snapshots it before deleting it; the sweep never deletes it
    /// (that would skip the snapshot).
    Snapshot,
    /// Not decidable; kept. The text says why.
    Undecided(String),
}

impl Retention {
    /// True when the sweep may delete what the stack deletion left of this resource.
    pub fn sweepable(&self) -> bool {
        *self == Self::Delete
    }

    /// True when the resource outlives the stack (kept data that `--delete-data` removes).
    pub fn kept(&self) -> bool {
        matches!(
            self,
            Self::Retain | Self::RetainExceptOnCreate | Self::Undecided(_)
        )
    }

    /// Why it is kept, for the report ("retained by the template", ...).
    pub fn reason(&self) -> String {
        match self {
            Self::Delete => "deleted with the stack".to_owned(),
            Self::Retain => "DeletionPolicy Retain".to_owned(),
            Self::RetainExceptOnCreate => "DeletionPolicy RetainExceptOnCreate".to_owned(),
            Self::Snapshot => "DeletionPolicy Snapshot: CloudFormation snapshots it".to_owned(),
            Self::Undecided(why) => format!("kept because {why}"),
        }
    }
}

/// The deployed template's deletion policies.
#[derive(Debug, Clone)]
pub struct Policies {
    /// The `Resources` mapping, or why there is none.
    resources: Result<serde_yaml::Mapping, String>,
}

impl Policies {
    /// Reads `body` (GetTemplate's TemplateBody, YAML or JSON; `None` when there was none).
    pub fn parse(body: Option<&str>) -> Self {
        let resources = match body {
            None => Err("the deployed template could not be read".to_owned()),
            Some(text) => match serde_yaml::from_str::<Value>(text) {
                Err(err) => Err(format!("the deployed template could not be parsed ({err})")),
                Ok(doc) => match doc.get("Resources") {
                    Some(Value::Mapping(map)) => Ok(map.clone()),
                    _ => Err("the deployed template has no Resources mapping".to_owned()),
                },
            },
        };
        Self { resources }
    }

    /// The retention of the resource with logical id `logical`.
    pub fn of(&self, logical: &str) -> Retention {
        let resources = match &self.resources {
            Ok(map) => map,
            Err(why) => return Retention::Undecided(why.clone()),
        };
        let Some(resource) = resources.get(logical) else {
            return Retention::Undecided(format!(
                "the deployed template does not list `{logical}`"
            ));
        };
        match resource.get("DeletionPolicy") {
            None => Retention::Delete,
            Some(Value::String(policy)) => match policy.as_str() {
                "Delete" => Retention::Delete,
                "Retain" => Retention::Retain,
                "RetainExceptOnCreate" => Retention::RetainExceptOnCreate,
                "Snapshot" => Retention::Snapshot,
                other => Retention::Undecided(format!(
                    "its DeletionPolicy `{other}` is not one CloudFormation documents"
                )),
            },
            Some(_) => Retention::Undecided(
                "its DeletionPolicy is not a plain value (an intrinsic function?)".to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four policies of the CloudFormation user guide's DeletionPolicy page, and every way
    /// of not knowing, which keeps.
    #[test]
    fn policies_are_read_strictly_and_fail_closed() {
        let p = Policies::parse(Some(
            "Resources:\n  Efs:\n    Type: AWS::EFS::FileSystem\n    DeletionPolicy: RetainExceptOnCreate\n  \
             Bucket:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n  \
             Gone:\n    Type: AWS::EFS::FileSystem\n    DeletionPolicy: Delete\n  \
             Vol:\n    Type: AWS::EC2::Volume\n    DeletionPolicy: Snapshot\n  \
             Vpc:\n    Type: AWS::EC2::VPC\n  \
             Odd:\n    Type: AWS::EFS::FileSystem\n    DeletionPolicy: !If [Keep, Retain, Delete]\n  \
             Typo:\n    Type: AWS::EFS::FileSystem\n    DeletionPolicy: retain\n",
        ));
        assert_eq!(p.of("Efs"), Retention::RetainExceptOnCreate);
        assert!(p.of("Efs").kept() && !p.of("Efs").sweepable());
        assert_eq!(p.of("Bucket"), Retention::Retain);
        assert_eq!(p.of("Gone"), Retention::Delete);
        assert!(p.of("Gone").sweepable() && !p.of("Gone").kept());
        assert_eq!(p.of("Vpc"), Retention::Delete);
        // Snapshot: deleted by CloudFormation after its snapshot, never by the sweep.
        assert!(!p.of("Vol").sweepable() && !p.of("Vol").kept());
        for undecided in ["Odd", "Typo", "NotInTemplate"] {
            let r = p.of(undecided);
            assert!(matches!(r, Retention::Undecided(_)), "{undecided}: {r:?}");
            assert!(r.kept() && !r.sweepable());
        }
        // JSON is YAML too.
        let json = Policies::parse(Some(
            r#"{"Resources": {"Efs": {"Type": "AWS::EFS::FileSystem", "DeletionPolicy": "Retain"}}}"#,
        ));
        assert_eq!(json.of("Efs"), Retention::Retain);
    }

    #[test]
    fn a_template_that_cannot_be_read_keeps_everything() {
        for body in [
            None,
            Some("Resources: [unclosed"),
            Some("Description: no resources"),
        ] {
            let p = Policies::parse(body);
            let r = p.of("Vpc");
            assert!(r.kept() && !r.sweepable(), "{body:?}: {r:?}");
            assert!(
                r.reason().starts_with("kept because the deployed template"),
                "{r:?}"
            );
        }
    }
}
