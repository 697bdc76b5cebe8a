//! The rendered default template, deployed to the emulator with a plain CreateStack call (the
//! deploy engine is tested on its own), then read back resource by resource with describe calls.
//!
//! moto deploys the template but keeps only some properties of some resource types. Where it
//! drops a property, the test says so and checks that property in the rendered template
//! instead (rendered_properties_follow_the_stack_file covers the rest):
//! - AWS::FSx::FileSystem is not modelled by moto's CloudFormation: it is skipped;
//! - AWS::SageMaker::NotebookInstance keeps only InstanceType and RoleArn, and takes its name
//!   from the logical id; the lifecycle config keeps only OnStart/OnCreate;
//! - egress rules (inline SecurityGroupEgress and AWS::EC2::SecurityGroupEgress) are ignored;
//! - AWS::EC2::VPC ignores EnableDnsSupport and EnableDnsHostnames;
//! - AWS::EC2::SubnetRouteTableAssociation is created but not listed by DescribeRouteTables.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudformation::types::Capability;
use aws_sdk_ec2::types::Filter;
use base64::Engine as _;

use crate::support::emulator::Emulator;
use crate::support::stackctl;

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// IAM returns policy documents URL-encoded.
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn default_template_deploys_to_the_emulator_with_every_property_in_place() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let template = out.stdout;

    let config = emulator.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let efs = aws_sdk_efs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let sagemaker = aws_sdk_sagemaker::Client::new(&config);

    cfn.create_stack()
        .stack_name("mask-rcnn")
        .template_body(&template)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStack: {e:?}\n{}", emulator.log()));
    let stack = cfn
        .describe_stacks()
        .stack_name("mask-rcnn")
        .send()
        .await
        .unwrap()
        .stacks
        .unwrap()
        .remove(0);
    assert_eq!(
        stack.stack_status().unwrap().as_str(),
        "CREATE_COMPLETE",
        "{:?}",
        stack.stack_status_reason()
    );
    let outputs: BTreeMap<String, String> = stack
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap().to_owned(),
                o.output_value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let resources: BTreeMap<String, String> = cfn
        .describe_stack_resources()
        .stack_name("mask-rcnn")
        .send()
        .await
        .unwrap()
        .stack_resources()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap().to_owned(),
                r.physical_resource_id().unwrap_or_default().to_owned(),
            )
        })
        .collect();

    // VPC with DNS support and hostnames.
    let vpc_id = &outputs["VpcId"];
    assert_eq!(&resources["Vpc"], vpc_id);
    let vpc = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .unwrap()
        .vpcs
        .unwrap()
        .remove(0);
    assert_eq!(vpc.cidr_block(), Some("172.30.0.0/16"));
    // moto's CloudFormation ignores EnableDnsSupport/EnableDnsHostnames (its VPC keeps its own
    // defaults), so these two are checked in the template.
    assert!(template.contains("EnableDnsSupport: true\n      EnableDnsHostnames: true"));

    // 1 public + 3 private subnets; the private ones in 3 distinct zones.
    let subnets = ec2
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap();
    assert_eq!(subnets.len(), 4);
    let private_ids: Vec<String> = outputs["PrivateSubnetIds"]
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(private_ids.len(), 3);
    let by_id: BTreeMap<&str, _> = subnets
        .iter()
        .map(|s| (s.subnet_id().unwrap(), s))
        .collect();
    let private_azs: BTreeSet<&str> = private_ids
        .iter()
        .map(|id| by_id[id.as_str()].availability_zone().unwrap())
        .collect();
    assert_eq!(
        private_azs.len(),
        3,
        "private subnets must be in distinct zones"
    );
    let private_cidrs: Vec<&str> = private_ids
        .iter()
        .map(|id| by_id[id.as_str()].cidr_block().unwrap())
        .collect();
    assert_eq!(
        private_cidrs,
        ["172.30.0.0/18", "172.30.64.0/18", "172.30.128.0/18"]
    );
    let public = by_id[resources["PublicSubnet1"].as_str()];
    assert_eq!(public.cidr_block(), Some("172.30.192.0/24"));
    assert_eq!(public.map_public_ip_on_launch(), Some(false));
    assert_eq!(
        public.availability_zone(),
        by_id[private_ids[0].as_str()].availability_zone(),
        "the NAT gateway sits in the first zone"
    );
    assert_eq!(outputs["FsxSubnetId"], private_ids[0]);

    // One NAT gateway in the public subnet; private routes go through it, public through the IGW.
    let nats = ec2
        .describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .send()
        .await
        .unwrap()
        .nat_gateways
        .unwrap();
    assert_eq!(nats.len(), 1);
    assert_eq!(nats[0].subnet_id(), public.subnet_id());
    let nat_id = nats[0].nat_gateway_id().unwrap();
    let tables = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .unwrap()
        .route_tables
        .unwrap();
    let private_table = tables
        .iter()
        .find(|t| t.route_table_id() == Some(resources["PrivateRouteTable1"].as_str()))
        .expect("private route table");
    assert!(
        private_table
            .routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
                && r.nat_gateway_id() == Some(nat_id))
    );
    // moto creates AWS::EC2::SubnetRouteTableAssociation but DescribeRouteTables does not list
    // it; check that the stack has each association and that the template wires it right.
    for n in 1..=3 {
        let association = format!("PrivateSubnet{n}RouteTableAssociation");
        assert!(resources.contains_key(&association), "{association}");
        assert!(template.contains(&format!(
            "{association}:\n    Type: AWS::EC2::SubnetRouteTableAssociation\n    Properties:\n      SubnetId: !Ref PrivateSubnet{n}\n      RouteTableId: !Ref PrivateRouteTable1\n"
        )));
    }
    let public_table = tables
        .iter()
        .find(|t| t.route_table_id() == Some(resources["PublicRouteTable"].as_str()))
        .expect("public route table");
    assert!(
        public_table
            .routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
                && r.gateway_id() == Some(resources["InternetGateway"].as_str()))
    );

    // S3 gateway endpoint on the private route table.
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .unwrap()
        .vpc_endpoints
        .unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(
        endpoints[0].service_name(),
        Some("com.amazonaws.us-east-1.s3")
    );
    assert_eq!(
        endpoints[0].vpc_endpoint_type().map(|t| t.as_str()),
        Some("Gateway")
    );
    assert_eq!(
        endpoints[0].route_table_ids(),
        [resources["PrivateRouteTable1"].clone()]
    );

    // Security group: ingress only from itself, on every protocol; nothing from any CIDR.
    let sg_id = &outputs["SecurityGroupId"];
    let sg = ec2
        .describe_security_groups()
        .group_ids(sg_id)
        .send()
        .await
        .unwrap()
        .security_groups
        .unwrap()
        .remove(0);
    assert_eq!(sg.vpc_id(), Some(vpc_id.as_str()));
    let ingress = sg.ip_permissions();
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert_eq!(ingress[0].ip_protocol(), Some("-1"));
    assert!(ingress[0].ip_ranges().is_empty() && ingress[0].ipv6_ranges().is_empty());
    assert_eq!(
        ingress[0].user_id_group_pairs()[0].group_id(),
        Some(sg_id.as_str())
    );
    // moto models neither inline egress rules nor AWS::EC2::SecurityGroupEgress, so egress (self,
    // 443 and 80 only) is checked in the template.
    assert!(
        template
            .contains("SecurityGroupEgress:\n        - IpProtocol: tcp\n          FromPort: 443")
    );
    assert!(template.contains(
        "SecurityGroupEgressSelf:\n    Type: AWS::EC2::SecurityGroupEgress\n    Properties:\n      GroupId: !GetAtt SecurityGroup.GroupId\n      IpProtocol: \"-1\"\n      DestinationSecurityGroupId: !GetAtt SecurityGroup.GroupId"
    ));

    // EFS: encrypted, elastic throughput, a mount target per private subnet in the group.
    let fs_id = &outputs["EfsFileSystemId"];
    let fs = efs
        .describe_file_systems()
        .file_system_id(fs_id)
        .send()
        .await
        .unwrap()
        .file_systems
        .unwrap()
        .remove(0);
    assert_eq!(fs.encrypted(), Some(true));
    assert_eq!(fs.throughput_mode().map(|m| m.as_str()), Some("elastic"));
    assert_eq!(fs.performance_mode().as_str(), "generalPurpose");
    let targets = efs
        .describe_mount_targets()
        .file_system_id(fs_id)
        .send()
        .await
        .unwrap()
        .mount_targets
        .unwrap();
    let target_subnets: BTreeSet<&str> = targets.iter().map(|t| t.subnet_id()).collect();
    assert_eq!(
        target_subnets,
        private_ids.iter().map(String::as_str).collect()
    );
    for target in &targets {
        let groups = efs
            .describe_mount_target_security_groups()
            .mount_target_id(target.mount_target_id())
            .send()
            .await
            .unwrap();
        assert_eq!(groups.security_groups(), std::slice::from_ref(sg_id));
    }

    // IAM role trusted by SageMaker with one scoped inline policy.
    let role_arn = &outputs["ExecutionRoleArn"];
    let role_name = role_arn.rsplit('/').next().unwrap();
    let role = iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let trust = url_decode(role.assume_role_policy_document().unwrap());
    assert!(trust.contains("sagemaker.amazonaws.com"), "{trust}");
    assert!(
        iam.list_attached_role_policies()
            .role_name(role_name)
            .send()
            .await
            .unwrap()
            .attached_policies()
            .is_empty(),
        "no managed policies"
    );
    let names = iam
        .list_role_policies()
        .role_name(role_name)
        .send()
        .await
        .unwrap()
        .policy_names;
    assert_eq!(names, ["stackctl-execution"]);
    let policy = iam
        .get_role_policy()
        .role_name(role_name)
        .policy_name("stackctl-execution")
        .send()
        .await
        .unwrap();
    let document: serde_json::Value =
        serde_json::from_str(&url_decode(policy.policy_document())).unwrap();
    let statements = document["Statement"].as_array().unwrap();
    let bucket = &outputs["DataBucket"];
    let mut s3_resources = Vec::new();
    for statement in statements {
        let actions: Vec<String> = match &statement["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap().to_owned()).collect()
            }
            other => panic!("Action {other}"),
        };
        for action in &actions {
            assert!(!action.contains('*'), "wildcard action {action}");
        }
        if actions.iter().any(|a| a.starts_with("s3:")) {
            s3_resources.push(statement["Resource"].to_string());
        }
    }
    assert_eq!(s3_resources.len(), 2, "{s3_resources:?}");
    assert!(
        s3_resources.iter().all(|r| r.contains(bucket.as_str())),
        "S3 limited to the data bucket: {s3_resources:?}"
    );

    // Notebook: moto keeps the instance type and role (see the module docs for the rest).
    let notebook_name = &outputs["NotebookInstanceName"];
    let notebook = sagemaker
        .describe_notebook_instance()
        .notebook_instance_name(notebook_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        notebook.instance_type().map(|t| t.as_str()),
        Some("ml.m5.2xlarge")
    );
    assert_eq!(notebook.role_arn(), Some(role_arn.as_str()));
    for property in [
        "SubnetId: !Ref PrivateSubnet1",
        "DirectInternetAccess: Disabled",
        "RootAccess: Disabled",
        "VolumeSizeInGB: 200",
        "LifecycleConfigName: !GetAtt NotebookLifecycleConfig.NotebookInstanceLifecycleConfigName",
    ] {
        assert!(template.contains(property), "{property}");
    }

    // Lifecycle config: the on-start script mounts EFS (by the stack's id) and FSx.
    let lifecycle = sagemaker
        .describe_notebook_instance_lifecycle_config()
        // The physical id is the config's ARN; the API takes its name.
        .notebook_instance_lifecycle_config_name(
            resources["NotebookLifecycleConfig"]
                .rsplit('/')
                .next()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let content = lifecycle.on_start()[0].content().unwrap();
    let script = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap(),
    )
    .unwrap();
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    assert!(script.contains(&format!("EFS_ID=\"{fs_id}\"")), "{script}");
    assert!(script.contains("mount_with_retry -t nfs4"));
    assert!(script.contains("/home/ec2-user/efs"));
    assert!(script.contains("mount_with_retry -t lustre"));
    assert!(script.contains("/home/ec2-user/fsx"));
    assert!(lifecycle.on_create().is_empty());
}
