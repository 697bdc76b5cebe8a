//! Issue 12, item 3: the data bucket and EFS file system a stack kept are found again by their
//! tags after the stack is gone: `status` lists them, `up` of a new stack of that name reuses
//! them (recorded in the stack file) or refuses to guess, and `down --delete-data` deletes
//! them, also when the stack that made them is long deleted.

use crate::deploy_up::{result_of, stackctl_aws};
use crate::support::emulator::Emulator;

fn json(out: &crate::support::Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: not JSON:\n{}\n{}", out.stdout, out.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn kept_data_is_listed_reused_by_the_next_up_and_deleted_with_delete_data() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let init = stackctl_aws(None, dir.path(), &["init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);

    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let outputs = result_of(&up)["outputs"].clone();
    let bucket = outputs["DataBucket"].as_str().unwrap().to_owned();
    let fs_id = outputs["EfsFileSystemId"].as_str().unwrap().to_owned();
    let config = emulator.sdk_config().await;
    let s3 = emulator.s3().await;
    s3.put_object()
        .bucket(&bucket)
        .key("mask-rcnn/sagemaker/input/train/staged.txt")
        .body(b"staged once".to_vec().into())
        .send()
        .await
        .unwrap();
    // A bucket of someone else's with the same kind of name, and one tagged for another
    // stack: never listed, never touched.
    for (name, stack) in [("mask-rcnn-theirs", None), ("other-data", Some("other"))] {
        s3.create_bucket().bucket(name).send().await.unwrap();
        if let Some(stack) = stack {
            s3.put_bucket_tagging()
                .bucket(name)
                .tagging(
                    aws_sdk_s3::types::Tagging::builder()
                        .tag_set(
                            aws_sdk_s3::types::Tag::builder()
                                .key("stackctl:stack")
                                .value(stack)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    }

    // The stack goes; the bucket and the file system stay.
    let down = stackctl_aws(e, dir.path(), &["down", "--yes", "--output", "json"]);
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);

    // status finds them by their tags.
    let status = stackctl_aws(e, dir.path(), &["status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("does not exist"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("Kept by earlier deployments of `mask-rcnn`"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains(&format!("data bucket {bucket}")),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains(&format!("EFS file system {fs_id}")),
        "{}",
        status.stdout
    );
    let status = json(&stackctl_aws(
        e,
        dir.path(),
        &["status", "--output", "json"],
    ));
    assert_eq!(status["status"], "ABSENT");
    let kept: Vec<(String, String)> = status["kept_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            ("bucket".to_owned(), bucket.clone()),
            ("file_system".to_owned(), fs_id.clone())
        ],
        "{status}"
    );
    assert!(status["kept_data"][1]["created"].is_string(), "{status}");
    assert!(status["kept_data"][0]["size_bytes"].is_null(), "{status}");

    // Without a terminal, `up` does not guess: exit 2, both named, both choices, nothing made.
    let refused = stackctl_aws(e, dir.path(), &["up", "--yes"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    for needle in [
        bucket.as_str(),
        fs_id.as_str(),
        "--reuse-data",
        "--new-data",
        "Nothing was changed",
    ] {
        assert!(
            refused.stderr.contains(needle),
            "{needle}: {}",
            refused.stderr
        );
    }
    let absent = json(&stackctl_aws(
        e,
        dir.path(),
        &["status", "--output", "json"],
    ));
    assert_eq!(absent["status"], "ABSENT", "{absent}");

    // --reuse-data: written into ./stackctl.yaml, and the new stack uses them.
    let reused = stackctl_aws(
        e,
        dir.path(),
        &["up", "--yes", "--reuse-data", "--output", "json"],
    );
    assert_eq!(reused.code, 0, "{}{}", reused.stdout, reused.stderr);
    assert!(
        reused
            .stderr
            .contains("wrote data.bucket and efs.existing_id into ./stackctl.yaml"),
        "{}",
        reused.stderr
    );
    let file = fs_err::read_to_string(dir.path().join("stackctl.yaml")).unwrap();
    assert!(
        file.contains(&format!("  bucket: {bucket}  # reused")),
        "{file}"
    );
    assert!(
        file.contains(&format!("  existing_id: {fs_id}  # reused")),
        "{file}"
    );
    assert!(file.contains("  # retain: true"), "{file}");
    let outputs = result_of(&reused)["outputs"].clone();
    assert_eq!(outputs["DataBucket"], bucket.as_str());
    assert_eq!(outputs["EfsFileSystemId"], fs_id.as_str());
    let staged = s3
        .get_object()
        .bucket(&bucket)
        .key("mask-rcnn/sagemaker/input/train/staged.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        staged.body.collect().await.unwrap().into_bytes().as_ref(),
        b"staged once"
    );
    // The file now says so; a second `up` changes nothing.
    let again = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(result_of(&again)["status"], "NO_CHANGES");
    // The live stack uses them: status does not call them kept.
    let live = json(&stackctl_aws(
        e,
        dir.path(),
        &["status", "--output", "json"],
    ));
    assert_eq!(live["kept_data"], serde_json::json!([]), "{live}");

    // down keeps them (the new stack never owned them); down --delete-data on the deleted
    // stack finds them by their tags and deletes them.
    let down = stackctl_aws(e, dir.path(), &["down", "--yes", "--output", "json"]);
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    let notes = result_of(&down)["notes"].to_string();
    assert!(
        notes.contains(&format!("kept data bucket {bucket}")),
        "{notes}"
    );
    assert!(notes.contains("earlier deployment"), "{notes}");

    // Without a terminal, deleting data needs --yes.
    let unconfirmed = stackctl_aws(e, dir.path(), &["down", "--delete-data"]);
    assert_eq!(unconfirmed.code, 2, "{}", unconfirmed.stderr);
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_ok(),
        "an unconfirmed --delete-data deletes nothing"
    );
    // Mounted from somewhere else (here: a default-VPC subnet): `--delete-data` leaves the
    // file system, names the mount target, and deletes it once that is gone.
    let efs = aws_sdk_efs::Client::new(&config);
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let default_subnet = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .subnet_id()
        .unwrap()
        .to_owned();
    let foreign = efs
        .create_mount_target()
        .file_system_id(&fs_id)
        .subnet_id(&default_subnet)
        .send()
        .await
        .unwrap()
        .mount_target_id
        .to_owned();
    let mounted = stackctl_aws(e, dir.path(), &["down", "--yes", "--delete-data"]);
    assert_eq!(mounted.code, 1, "{}{}", mounted.stdout, mounted.stderr);
    assert!(mounted.stderr.contains(&foreign), "{}", mounted.stderr);
    assert!(
        mounted.stderr.contains("mounted elsewhere"),
        "{}",
        mounted.stderr
    );
    assert!(
        efs.describe_file_systems()
            .file_system_id(&fs_id)
            .send()
            .await
            .is_ok(),
        "a file system mounted elsewhere is not deleted"
    );
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_ok(),
        "nor anything else"
    );
    efs.delete_mount_target()
        .mount_target_id(&foreign)
        .send()
        .await
        .unwrap();
    let deleted = stackctl_aws(
        e,
        dir.path(),
        &["down", "--yes", "--delete-data", "--output", "json"],
    );
    assert_eq!(deleted.code, 0, "{}{}", deleted.stdout, deleted.stderr);
    let notes = result_of(&deleted)["notes"].to_string();
    assert!(
        notes.contains(&format!("deleted bucket {bucket}")),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("deleted EFS file system {fs_id}")),
        "{notes}"
    );
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err());
    let left = efs.describe_file_systems().send().await.unwrap();
    assert!(
        left.file_systems()
            .iter()
            .all(|f| f.file_system_id() != fs_id),
        "{left:?}"
    );
    for theirs in ["mask-rcnn-theirs", "other-data"] {
        assert!(
            s3.head_bucket().bucket(theirs).send().await.is_ok(),
            "{theirs} is not the stack's and stays"
        );
    }
    let nothing = stackctl_aws(e, dir.path(), &["status", "--output", "json"]);
    assert_eq!(json(&nothing)["kept_data"], serde_json::json!([]));
}

/// `--new-data` creates new storage and leaves the kept one alone; an interactive "no" does the
/// same (the prompt is covered by the non-interactive refusal above, which names both flags).
#[tokio::test(flavor = "multi_thread")]
async fn new_data_creates_new_storage_and_leaves_the_kept_alone() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes", "--output", "json"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let first = result_of(&up)["outputs"]["DataBucket"]
        .as_str()
        .unwrap()
        .to_owned();
    let down = stackctl_aws(e, dir.path(), &["down", "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);

    let fresh = stackctl_aws(
        e,
        dir.path(),
        &["up", "--yes", "--new-data", "--output", "json"],
    );
    assert_eq!(fresh.code, 0, "{}{}", fresh.stdout, fresh.stderr);
    assert!(
        fresh.stderr.contains("the kept ones stay"),
        "{}",
        fresh.stderr
    );
    assert!(
        !dir.path().join("stackctl.yaml").exists(),
        "--new-data writes no stack file"
    );
    let second = result_of(&fresh)["outputs"]["DataBucket"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    // The live stack's bucket is its own; the first one is listed as kept.
    let status = json(&stackctl_aws(
        e,
        dir.path(),
        &["status", "--output", "json"],
    ));
    let ids: Vec<&str> = status["kept_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&first.as_str()), "{status}");
    assert!(!ids.contains(&second.as_str()), "{status}");
}
