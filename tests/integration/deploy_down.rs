//! `stackctl down` against the emulator: everything but the retained data goes, network
//! interfaces in the stack's subnets are waited for or deleted, and a second `down` is a no-op.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_ec2::types::Filter;

use crate::deploy_up::{result_of, stackctl_aws};
use crate::support::emulator::Emulator;

#[tokio::test(flavor = "multi_thread")]
async fn down_waits_for_foreign_network_interfaces_removes_the_rest_and_keeps_the_data() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let outputs = result_of(&up)["outputs"].clone();
    let out = |k: &str| outputs[k].as_str().unwrap().to_owned();
    let subnets: Vec<String> = out("PrivateSubnetIds")
        .split(',')
        .map(str::to_owned)
        .collect();
    let sg = out("SecurityGroupId");
    let vpc = out("VpcId");

    let config = emulator.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    // An interface someone left behind: available and in our account, so `down` deletes it.
    let left = ec2
        .create_network_interface()
        .subnet_id(&subnets[0])
        .groups(&sg)
        .description("left behind by a test")
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();
    // An interface in use by an instance: `down` must wait until it is gone.
    let reservation = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnets[1])
        .security_group_ids(&sg)
        .send()
        .await
        .unwrap();
    let instance = reservation.instances()[0].instance_id().unwrap().to_owned();
    let in_use = reservation.instances()[0].network_interfaces()[0]
        .network_interface_id()
        .unwrap()
        .to_owned();

    // down runs while the test watches its output and removes the instance when asked to wait.
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["down", "--yes", "--endpoint-url", &emulator.endpoint])
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("STACKCTL_STACK")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let waited_line = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("down announces the interface it waits for");
        if line.contains("waiting for network interface") {
            break line;
        }
    };
    assert!(waited_line.contains(&in_use), "{waited_line}");
    assert!(
        waited_line.contains(&instance),
        "says whose it is: {waited_line}"
    );
    ec2.terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    // moto keeps a terminated instance's interface; take it away as AWS would.
    let _ = ec2
        .delete_network_interface()
        .network_interface_id(&in_use)
        .send()
        .await;

    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("deleted network interface {left}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("network interface(s) {in_use} gone")),
        "{stderr}"
    );
    assert!(
        stderr.contains("deleted NAT gateway"),
        "the emulator leaves the NAT gateway: {stderr}"
    );
    assert!(stderr.contains("released Elastic IP"), "{stderr}");
    assert!(stderr.contains("kept EFS file system"), "{stderr}");
    assert!(stderr.contains("kept data bucket"), "{stderr}");

    // Everything but the retained data is gone.
    let vpcs = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "VPC {vpc} still exists");
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| n.state().map(|s| s.as_str()) == Some("deleted"))
    );
    assert!(
        ec2.describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses()
            .is_empty(),
        "no EIP left"
    );
    let efs = aws_sdk_efs::Client::new(&config);
    let fs = efs
        .describe_file_systems()
        .file_system_id(out("EfsFileSystemId"))
        .send()
        .await
        .unwrap();
    assert_eq!(fs.file_systems().len(), 1, "the retained file system stays");
    assert_eq!(fs.file_systems()[0].number_of_mount_targets(), 0);

    // A second down: the stack is gone, exit 0.
    let again = stackctl_aws(e, dir.path(), &["down", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("does not exist"), "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn down_with_delete_data_removes_the_file_system_and_the_bucket() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let outputs = result_of(&up)["outputs"].clone();
    let bucket = outputs["DataBucket"].as_str().unwrap().to_owned();
    let fs_id = outputs["EfsFileSystemId"].as_str().unwrap().to_owned();
    let config = emulator.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket(&bucket)
        .key("mask-rcnn/x.txt")
        .body(b"data".to_vec().into())
        .send()
        .await
        .unwrap();

    let down = stackctl_aws(
        e,
        dir.path(),
        &["down", "--yes", "--delete-data", "--output", "json"],
    );
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    let result = result_of(&down);
    assert_eq!(result["status"], "DELETE_COMPLETE");
    let notes = result["notes"].to_string();
    assert!(
        notes.contains(&format!("deleted EFS file system {fs_id}")),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("deleted bucket {bucket}")),
        "{notes}"
    );
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err());
    let efs = aws_sdk_efs::Client::new(&config);
    assert!(
        efs.describe_file_systems()
            .file_system_id(&fs_id)
            .send()
            .await
            .is_err()
    );
}
