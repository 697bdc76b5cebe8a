//! Which failure caused the others: CloudFormation reports every resource it cancelled after
//! the first failure, and the stack's own failure last; users need the first real one.

use crate::report::ResourceEvent;

/// Reasons CloudFormation gives to resources that failed only because another one did.
const CASCADE_MARKERS: &[&str] = &[
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
    "The following resource(s) failed to",
    "Resource handler returned message: \"null\"",
];

/// True when `event` failed because of another resource.
pub fn is_cascade(event: &ResourceEvent) -> bool {
    event
        .reason
        .as_deref()
        .is_some_and(|r| CASCADE_MARKERS.iter().any(|m| r.contains(m)))
}

/// Failed events ordered root cause first: the earliest failure of a resource (not the stack
/// itself) that is not a cascade, then the other real failures, then cascades and the stack.
pub fn rank(events: &[ResourceEvent], stack_type: &str) -> Vec<ResourceEvent> {
    let failed: Vec<&ResourceEvent> = events.iter().filter(|e| e.is_failure()).collect();
    let key = |e: &ResourceEvent| -> u8 {
        if e.resource_type == stack_type {
            3
        } else if is_cascade(e) {
            2
        } else {
            1
        }
    };
    let mut ranked: Vec<(u8, usize, &ResourceEvent)> = failed
        .iter()
        .enumerate()
        .map(|(i, e)| (key(e), i, *e))
        .collect();
    // Events are chronological; a stable sort keeps the earliest first within a rank.
    ranked.sort_by_key(|(rank, i, _)| (*rank, *i));
    ranked.into_iter().map(|(_, _, e)| e.clone()).collect()
}

/// Reasons that mean a service could not yet assume a role the same stack had just created:
/// IAM is eventually consistent (IAM user guide, "Changes that I make are not always
/// immediately visible"), so a re-run usually succeeds.
const ROLE_PROPAGATION_MARKERS: &[&str] = &[
    "unable to assume role",
    "could not assume role",
    "not authorized to perform: sts:assumerole",
    "cannot assume role",
    "unable to assume the role",
];

/// What a root cause means, when it is a known race rather than a mistake in the stack file.
pub fn explain(event: &ResourceEvent) -> Option<&'static str> {
    let reason = event.reason.as_deref()?.to_ascii_lowercase();
    ROLE_PROPAGATION_MARKERS
        .iter()
        .any(|m| reason.contains(m))
        .then_some(
            "the service could not assume a role: when the role was created seconds earlier in this stack, IAM had not yet propagated it, and running `stackctl up` again fixes it; if it fails the same way again, the role's trust policy refuses the service",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iam_propagation_race_is_named() {
        // DataSync's CreateLocationS3 answer when the bucket access role is not yet visible
        // (DataSync user guide, "Troubleshooting": "DataSync is unable to assume the role").
        let race = ev(
            "DataSyncS3Location",
            "AWS::DataSync::LocationS3",
            "CREATE_FAILED",
            "Resource handler returned message: \"DataSync location access test failed: could not perform s3:ListObjectsV2 on bucket. Unable to assume role. Reason: Access denied when calling sts:AssumeRole\"",
        );
        let why = explain(&race).unwrap();
        assert!(why.contains("running `stackctl up` again"), "{why}");
        assert!(why.contains("trust policy"), "{why}");
        let mistake = ev(
            "Fsx",
            "AWS::FSx::FileSystem",
            "CREATE_FAILED",
            "Invalid storage capacity",
        );
        assert_eq!(explain(&mistake), None);
    }

    fn ev(id: &str, ty: &str, status: &str, reason: &str) -> ResourceEvent {
        ResourceEvent {
            time: String::new(),
            logical_id: id.into(),
            resource_type: ty.into(),
            status: status.into(),
            reason: (!reason.is_empty()).then(|| reason.into()),
        }
    }

    #[test]
    fn the_first_real_failure_comes_first() {
        let events = vec![
            ev("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", ""),
            ev(
                "Bucket",
                "AWS::S3::Bucket",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            ev(
                "Fsx",
                "AWS::FSx::FileSystem",
                "CREATE_FAILED",
                "Invalid storage capacity",
            ),
            ev(
                "Efs",
                "AWS::EFS::FileSystem",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            ev("Role", "AWS::IAM::Role", "CREATE_FAILED", "Access denied"),
            ev(
                "demo",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to create: [Fsx, Role]",
            ),
            ev("demo", "AWS::CloudFormation::Stack", "CREATE_FAILED", "x"),
        ];
        let ranked = rank(&events, "AWS::CloudFormation::Stack");
        let ids: Vec<&str> = ranked.iter().map(|e| e.logical_id.as_str()).collect();
        assert_eq!(ids, ["Fsx", "Role", "Bucket", "Efs", "demo"]);
    }
}
