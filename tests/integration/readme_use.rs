//! Issue 12, "Done when": the README's Use section works when followed literally in a fresh
//! directory. The commands are read from README.md itself (so the test follows the README as
//! it is, not a copy) and run in order against the emulator, each expected to exit 0.
//!
//! What a test cannot do literally is replaced, each said here: `cargo install` (the binary
//! under test is used), `$EDITOR` (the file is left as `init` wrote it), `up`/`down` get
//! `--yes` (no terminal; the README says "--yes in scripts"), `~/coco2017` is a small tree with
//! the layout, docker is a stand-in script (`--docker`) and the image it would have pushed is
//! put into the emulator's ECR with PutImage, `| kubectl apply -f -` is left off, and `URI` and
//! `NAME` are the values the commands before printed.

use std::path::Path;

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;
use crate::support::{Output, root};

/// The shell lines of the Use section's first code block, comments removed, split at `;`.
fn use_commands(readme: &str) -> Vec<String> {
    let section = readme
        .split("\n## Use\n")
        .nth(1)
        .expect("README has a Use section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the Use section starts with a sh block");
    block
        .lines()
        .map(|l| l.split("  #").next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .flat_map(|l| l.split("; ").map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn coco_tree(dir: &Path) -> String {
    let tree = dir.join("coco2017");
    for rel in [
        "train2017/000000000009.jpg",
        "val2017/000000000139.jpg",
        "annotations/instances_train2017.json",
        "annotations/instances_val2017.json",
        "pretrained-models/ImageNet-R50-AlignPadding.npz",
    ] {
        crate::support::write(&tree, rel, if rel.ends_with(".json") { "{}" } else { "x" });
    }
    tree.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_use_section_works_in_a_fresh_directory() {
    let readme = fs_err::read_to_string(root().join("README.md")).unwrap();
    let commands = use_commands(&readme);
    assert!(commands.len() >= 20, "{commands:?}");
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tools = tempfile::tempdir().unwrap();
    let docker = crate::images::fake_docker(tools.path(), "never", 0);
    let docker = docker.to_string_lossy().into_owned();
    let coco = coco_tree(tools.path());
    let ecr = aws_sdk_ecr::Client::new(&emulator.sdk_config().await);

    let mut uri = String::new();
    let mut job = String::new();
    let mut ran = Vec::new();
    for line in &commands {
        if line.starts_with("cargo install") || line.starts_with("$EDITOR") {
            continue;
        }
        // `eval "$(stackctl outputs --format env)"`: the inner command.
        let line = line
            .strip_prefix("eval \"$(")
            .and_then(|l| l.strip_suffix(")\""))
            .unwrap_or(line);
        let line = line.split(" | ").next().unwrap();
        let mut args: Vec<String> = line
            .split_whitespace()
            .map(|w| match w {
                "~/coco2017" => coco.clone(),
                "URI" => uri.clone(),
                "NAME" => job.clone(),
                w => w.to_owned(),
            })
            .collect();
        assert_eq!(args.remove(0), "stackctl", "{line}");
        match args[0].as_str() {
            "up" | "down" => args.push("--yes".to_owned()),
            "image" => args.extend(["--docker".to_owned(), docker.clone()]),
            _ => {}
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        // These call no AWS API and refuse --endpoint-url.
        let offline = ["init", "completions", "man", "schema"].contains(&argv[0]);
        let endpoint = (!offline).then_some(&emulator);
        let out: Output = stackctl_aws(endpoint, d, &argv);
        assert_eq!(
            out.code, 0,
            "`{line}` (run as {argv:?}) after {ran:?}:\n{}\n{}",
            out.stdout, out.stderr
        );
        ran.push(line.to_owned());
        if argv.starts_with(&["image", "push"]) {
            // What `docker push` would have put into the registry.
            let pushed = out.stdout.trim().to_owned();
            let (repository, tag) = pushed
                .split_once('/')
                .and_then(|(_, rest)| rest.rsplit_once(':'))
                .unwrap_or_else(|| panic!("image push prints the URI: {pushed}"));
            ecr.put_image()
                .repository_name(repository)
                .image_tag(tag)
                .image_manifest(crate::jobs::empty_manifest())
                .send()
                .await
                .unwrap();
            if uri.is_empty() {
                uri = pushed;
            }
        }
        if argv.starts_with(&["job", "submit"]) && !argv.contains(&"--dry-run") {
            job = out
                .stdout
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            assert!(
                !job.is_empty(),
                "submit prints the job name: {}",
                out.stdout
            );
        }
    }
    for must in [
        "up",
        "data stage",
        "job submit",
        "job wait",
        "down --delete-data",
    ] {
        assert!(
            ran.iter()
                .any(|l| l.starts_with(&format!("stackctl {must}"))),
            "the Use section runs `{must}`: {ran:?}"
        );
    }
    // The last `down --delete-data` left nothing of the stack.
    let status = stackctl_aws(Some(&emulator), d, &["status", "--output", "json"]);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["status"], "ABSENT", "{status}");
    assert_eq!(status["kept_data"], serde_json::json!([]), "{status}");
}
