//! An existing VPC (seed 001's "existing VPC" requirements): each private subnet routes
//! 0.0.0.0/0 through a NAT gateway (training images, the notebook's package installs) and S3
//! through a gateway endpoint, and the security group admits itself on NFS (2049) and Lustre
//! (988, 1018-1023).

use aws_sdk_ec2::types::{Filter, IpPermission, RouteTable};

use super::Finding;
use crate::aws::AwsError;

/// Check name of the routes.
pub const ROUTES: &str = "network.routes";
/// Check name of the security group.
pub const GROUP: &str = "network.group";

/// The route table a subnet uses: its own association, else the VPC's main table.
///
/// EC2 API reference, DescribeRouteTables: filters `association.subnet-id`, `vpc-id` and
/// `association.main`.
pub async fn route_table(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    subnet: &str,
) -> Result<Option<RouteTable>, AwsError> {
    let by_subnet = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(subnet)
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeRouteTables", e))?;
    if let Some(t) = by_subnet.route_tables().first() {
        return Ok(Some(t.clone()));
    }
    let main = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .filters(
            Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeRouteTables", e))?;
    Ok(main.route_tables().first().cloned())
}

/// Whether `table` (of `subnet`) has a NAT default route and an S3 gateway endpoint route.
pub fn check_routes(subnet: &str, table: Option<&RouteTable>) -> Finding {
    let Some(table) = table else {
        return Finding::fatal(
            ROUTES,
            format!("subnet {subnet} has no route table"),
            "associate it with a route table that routes 0.0.0.0/0 to a NAT gateway",
        );
    };
    let id = table.route_table_id().unwrap_or_default();
    let nat = table
        .routes()
        .iter()
        .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id().is_some());
    // A gateway endpoint adds a route to the service's prefix list through `vpce-...`.
    let s3 = table.routes().iter().any(|r| {
        r.destination_prefix_list_id().is_some()
            && r.gateway_id().is_some_and(|g| g.starts_with("vpce-"))
    });
    match (nat, s3) {
        (true, true) => Finding::ok(
            ROUTES,
            format!("subnet {subnet} ({id}): NAT default route and S3 gateway endpoint"),
        ),
        (false, _) => Finding::fatal(
            ROUTES,
            format!(
                "subnet {subnet} ({id}) has no 0.0.0.0/0 route to a NAT gateway: training jobs cannot pull images or reach AWS APIs"
            ),
            format!(
                "add a route 0.0.0.0/0 -> nat-... to {id}, or list private subnets that have one"
            ),
        ),
        (true, false) => Finding::warn(
            ROUTES,
            format!(
                "subnet {subnet} ({id}) has no S3 gateway endpoint route: S3 traffic goes through the NAT gateway (and its data charge)"
            ),
            format!("add an S3 gateway endpoint (com.amazonaws.<region>.s3) on {id}"),
        ),
    }
}

/// True when `p` lets members of `group` in on `port` (tcp, or all traffic).
fn admits(p: &IpPermission, group: &str, port: i32) -> bool {
    let from_self = p
        .user_id_group_pairs()
        .iter()
        .any(|g| g.group_id() == Some(group));
    let all = p.ip_protocol() == Some("-1");
    let tcp = p.ip_protocol() == Some("tcp")
        && p.from_port().is_some_and(|f| f <= port)
        && p.to_port().is_some_and(|t| t >= port);
    from_self && (all || tcp)
}

/// Whether the security group admits itself on NFS and Lustre ports.
///
/// EC2 API reference, DescribeSecurityGroups: `IpPermissions[].UserIdGroupPairs`; the FSx for
/// Lustre user guide ("File system access control with Amazon VPC") lists 988 and 1018-1023.
pub async fn check_group(ec2: &aws_sdk_ec2::Client, group: &str) -> Result<Finding, AwsError> {
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", e))?;
    let Some(sg) = out.security_groups().first() else {
        return Ok(Finding::fatal(
            GROUP,
            format!("security group {group} does not exist"),
            "set network.existing.security_group_id to an existing group of the VPC",
        ));
    };
    let missing: Vec<i32> = [2049, 988, 1018, 1023]
        .into_iter()
        .filter(|port| !sg.ip_permissions().iter().any(|p| admits(p, group, *port)))
        .collect();
    Ok(if missing.is_empty() {
        Finding::ok(
            GROUP,
            format!("{group} admits itself on NFS 2049 and Lustre 988, 1018-1023"),
        )
    } else {
        Finding::fatal(
            GROUP,
            format!(
                "{group} does not admit itself on TCP port(s) {missing:?}: EFS or FSx mounts would hang"
            ),
            format!(
                "add an inbound rule to {group} from {group} (all traffic, or TCP 2049, 988 and 1018-1023)"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    //! Shaped like the EC2 API reference's DescribeRouteTables (RouteTables[].Routes[] with
    //! DestinationCidrBlock, NatGatewayId, DestinationPrefixListId, GatewayId) and
    //! DescribeSecurityGroups (SecurityGroups[].IpPermissions[].UserIdGroupPairs) answers.
    use super::*;
    use crate::preflight::Severity;
    use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
    use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
    use aws_sdk_ec2::types::{Route, SecurityGroup, UserIdGroupPair};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn a_subnet_on_the_main_table_without_a_nat_route_is_fatal_with_the_fix() {
        let own = mock!(aws_sdk_ec2::Client::describe_route_tables)
            .match_requests(|r| {
                r.filters()
                    .iter()
                    .any(|f| f.name() == Some("association.subnet-id"))
            })
            .then_output(|| DescribeRouteTablesOutput::builder().build());
        let main = mock!(aws_sdk_ec2::Client::describe_route_tables)
            .match_requests(|r| {
                r.filters()
                    .iter()
                    .any(|f| f.name() == Some("association.main"))
            })
            .then_output(|| {
                DescribeRouteTablesOutput::builder()
                    .route_tables(
                        RouteTable::builder()
                            .route_table_id("rtb-0main")
                            .routes(
                                Route::builder()
                                    .destination_cidr_block("0.0.0.0/0")
                                    .gateway_id("igw-0123")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&own, &main]);
        let table = route_table(&ec2, "vpc-0123", "subnet-0123").await.unwrap();
        let f = check_routes("subnet-0123", table.as_ref());
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
        assert!(f.message.contains("rtb-0main"));
        assert!(f.fix.unwrap().contains("0.0.0.0/0 -> nat-"));

        let good = RouteTable::builder()
            .route_table_id("rtb-0ok")
            .routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id("nat-0123")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_prefix_list_id("pl-63a5400a")
                    .gateway_id("vpce-0123")
                    .build(),
            )
            .build();
        assert_eq!(
            check_routes("subnet-0123", Some(&good)).severity,
            Severity::Ok
        );
    }

    #[tokio::test]
    async fn a_group_that_does_not_admit_itself_is_fatal() {
        let rule = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
            DescribeSecurityGroupsOutput::builder()
                .security_groups(
                    SecurityGroup::builder()
                        .group_id("sg-0123")
                        // NFS from itself only: Lustre's ports are missing.
                        .ip_permissions(
                            IpPermission::builder()
                                .ip_protocol("tcp")
                                .from_port(2049)
                                .to_port(2049)
                                .user_id_group_pairs(
                                    UserIdGroupPair::builder().group_id("sg-0123").build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule]);
        let f = check_group(&ec2, "sg-0123").await.unwrap();
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
        assert!(f.message.contains("[988, 1018, 1023]"), "{f:?}");

        let all = IpPermission::builder()
            .ip_protocol("-1")
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-0123").build())
            .build();
        assert!(admits(&all, "sg-0123", 988));
        assert!(!admits(&all, "sg-other", 988));
    }
}
