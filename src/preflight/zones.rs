//! Availability zones: the created VPC puts subnet `i` in `!Select [i, !GetAZs ""]`, which
//! fails the create when the region offers fewer zones than the stack file asks for.

use super::Finding;
use crate::aws::AwsError;

/// Check name.
pub const CHECK: &str = "zones";

/// The region's availability zones that are available (no Local or Wavelength Zones), sorted.
///
/// EC2 API reference, DescribeAvailabilityZones: filters `state` (`available`) and `zone-type`
/// (`availability-zone`).
pub async fn available_zones(ec2: &aws_sdk_ec2::Client) -> Result<Vec<String>, AwsError> {
    use aws_sdk_ec2::types::Filter;
    let out = ec2
        .describe_availability_zones()
        .filters(Filter::builder().name("state").values("available").build())
        .filters(
            Filter::builder()
                .name("zone-type")
                .values("availability-zone")
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeAvailabilityZones", e))?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name().map(str::to_owned))
        .collect();
    zones.sort();
    Ok(zones)
}

/// Whether `requested` zones exist among `zones` of `region`.
pub fn check(requested: usize, zones: &[String], region: &str) -> Finding {
    let list = if zones.is_empty() {
        "none".to_owned()
    } else {
        zones.join(", ")
    };
    if requested <= zones.len() {
        Finding::ok(
            CHECK,
            format!(
                "{requested} zone(s) requested; {region} has {}: {list}",
                zones.len()
            ),
        )
    } else {
        Finding::fatal(
            CHECK,
            format!(
                "network.availability_zones is {requested}, but {region} has only {} available availability zone(s): {list}",
                zones.len()
            ),
            format!(
                "set network.availability_zones to at most {} in the stack file, or choose another region",
                zones.len()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    //! Shaped like the EC2 API reference's DescribeAvailabilityZones answer
    //! (AvailabilityZones[].ZoneName, with the state and zone-type filters applied).
    use super::*;
    use crate::preflight::Severity;
    use aws_sdk_ec2::operation::describe_availability_zones::DescribeAvailabilityZonesOutput;
    use aws_sdk_ec2::types::AvailabilityZone;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn three_zones_in_a_region_with_two_is_fatal_and_names_them() {
        let rule = mock!(aws_sdk_ec2::Client::describe_availability_zones)
            .match_requests(|r| {
                r.filters()
                    .iter()
                    .any(|f| f.name() == Some("zone-type") && f.values() == ["availability-zone"])
                    && r.filters()
                        .iter()
                        .any(|f| f.name() == Some("state") && f.values() == ["available"])
            })
            .then_output(|| {
                DescribeAvailabilityZonesOutput::builder()
                    .availability_zones(AvailabilityZone::builder().zone_name("xx-east-1b").build())
                    .availability_zones(AvailabilityZone::builder().zone_name("xx-east-1a").build())
                    .build()
            });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule]);
        let zones = available_zones(&ec2).await.unwrap();
        assert_eq!(zones, ["xx-east-1a", "xx-east-1b"]);
        let f = check(3, &zones, "xx-east-1");
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
        assert!(f.message.contains("xx-east-1a, xx-east-1b"), "{f:?}");
        assert!(f.fix.unwrap().contains("at most 2"));
        assert_eq!(check(2, &zones, "xx-east-1").severity, Severity::Ok);
    }
}
