//! The command line: help, init, render, plan, custom templates, pipes.

use std::process::{Command, Stdio};

use crate::support::{stackctl, write};

/// Each command's help shows its own options first and the global ones under their own
/// heading (issue 12, item 11).
#[test]
fn a_commands_own_options_come_before_the_global_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (args, own) in [
        (&["down", "--help"][..], "--delete-data"),
        (&["job", "logs", "--help"], "--tail"),
        (&["up", "--help"], "--yes"),
    ] {
        let out = stackctl(dir.path(), args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let help = &out.stdout;
        let own_at = help.find(own).unwrap_or_else(|| panic!("{args:?}: {help}"));
        let heading = help
            .find("Global options:")
            .unwrap_or_else(|| panic!("{args:?}: {help}"));
        let stack = help.find("--stack <FILE>").unwrap();
        assert!(own_at < heading && heading < stack, "{args:?}: {help}");
    }
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["--help"]);
    assert_eq!(out.code, 0);
    for word in [
        "init",
        "validate",
        "render",
        "plan",
        "--stack",
        "--templates",
        "--output",
        "Exit codes:",
        "130",
    ] {
        assert!(
            out.stdout.contains(word),
            "{word} missing from --help:\n{}",
            out.stdout
        );
    }
    assert_eq!(stackctl(dir.path(), &["--version"]).code, 0);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["render", "--no-such-flag"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--no-such-flag"));
    assert_eq!(stackctl(dir.path(), &["frobnicate"]).code, 2);
}

#[test]
fn init_writes_the_default_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["init"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = fs_err::read_to_string(dir.path().join("stackctl.yaml")).unwrap();
    assert_eq!(
        written,
        fs_err::read_to_string(crate::support::root().join("stacks/default.yaml")).unwrap()
    );
    assert!(written.contains("# "), "the file is commented");

    let again = stackctl(dir.path(), &["init"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("already exists") && again.stderr.contains("--force"),
        "{}",
        again.stderr
    );
    assert_eq!(stackctl(dir.path(), &["init", "--force"]).code, 0);

    // The written file renders exactly like the embedded default.
    let from_file = stackctl(dir.path(), &["render", "--stack", "stackctl.yaml"]);
    // `render` here would read ./stackctl.yaml; the embedded default is what an empty
    // directory gets.
    let empty = tempfile::tempdir().unwrap();
    let embedded = stackctl(empty.path(), &["render"]);
    assert!(
        embedded.stderr.contains("from the embedded default"),
        "{}",
        embedded.stderr
    );
    assert_eq!(from_file.code, 0);
    assert_eq!(from_file.stdout, embedded.stdout);

    let stdout = stackctl(dir.path(), &["init", "-"]);
    assert_eq!(stdout.stdout, written);
}

/// The examples in the file `init` writes work when uncommented (issue 12: uncommenting the
/// lines under `tags: {}` and `images: {}` gave a YAML syntax error).
#[test]
fn the_examples_init_writes_work_when_uncommented() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(stackctl(dir.path(), &["init"]).code, 0);
    let path = dir.path().join("stackctl.yaml");
    let text = fs_err::read_to_string(&path).unwrap();
    let mut uncommented = 0;
    let edited: String = text
        .lines()
        .map(|line| {
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            let example = [
                "# tags:",
                "#   team:",
                "# images:",
                "#   tensorpack:",
                "#   aws-samples:",
            ]
            .iter()
            .any(|p| body.starts_with(p));
            if example {
                uncommented += 1;
                format!("{indent}{}\n", &body[2..])
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert_eq!(uncommented, 5, "the examples are in the file:\n{text}");
    fs_err::write(&path, edited).unwrap();
    let checked = stackctl(dir.path(), &["validate", "--output", "json"]);
    assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);
    let spec: serde_json::Value = serde_json::from_str(&checked.stdout).unwrap();
    assert_eq!(
        spec["spec"]["tags"]["team"], "ml-platform",
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains("mask-rcnn-aws-samples:latest"),
        "the images example is read: {}",
        checked.stdout
    );
}

#[test]
fn render_to_file_matches_stdout_and_plan_lists_resources_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["render", "--out", "t.yaml"]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("wrote t.yaml"), "{}", out.stderr);
    let file = fs_err::read_to_string(dir.path().join("t.yaml")).unwrap();
    assert_eq!(file, stackctl(dir.path(), &["render"]).stdout);
    assert!(
        stackctl(dir.path(), &["render", "--out", "t.yaml", "--quiet"])
            .stderr
            .is_empty()
    );

    let plan = stackctl(dir.path(), &["plan", "--offline"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for needle in [
        "Stack `mask-rcnn`",
        "LOGICAL ID",
        "Vpc",
        "AWS::EC2::VPC",
        "NotebookInstance",
        "AWS::FSx::FileSystem",
        "ExecutionRoleArn",
        "PrivateSubnetIds",
        "Estimated cost (an estimate:",
        "NAT gateway x1",
        "Changes: not previewed (--offline)",
    ] {
        assert!(plan.stdout.contains(needle), "{needle}:\n{}", plan.stdout);
    }
}

#[test]
fn the_stack_file_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "env.yaml", "name: from-env\n");
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .arg("validate")
        .env("STACKCTL_STACK", "env.yaml")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("from-env"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .arg("render")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Only the line naming the stack file, no error.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "using stack `mask-rcnn` from the embedded default (no ./stackctl.yaml here)\n"
    );
}

#[test]
fn every_command_reads_the_stackctl_yaml_init_wrote_and_says_which_file_it_uses() {
    let dir = tempfile::tempdir().unwrap();
    // Without a file: the embedded default, said on stderr, stdout untouched.
    let out = stackctl(dir.path(), &["render"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "using stack `mask-rcnn` from the embedded default (no ./stackctl.yaml here)"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("using stack"), "{}", out.stdout);

    // init, edit the name: every command here uses the file.
    let init = stackctl(dir.path(), &["init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(
        init.stderr.contains("`stackctl up` in this directory"),
        "{}",
        init.stderr
    );
    let path = dir.path().join("stackctl.yaml");
    let text = fs_err::read_to_string(&path).unwrap();
    fs_err::write(
        &path,
        text.replacen("name: mask-rcnn", "name: team-a-rcnn", 1),
    )
    .unwrap();
    for args in [
        &["validate"][..],
        &["render"],
        &["plan", "--offline"],
        &["job", "render", "--model", "tensorpack", "--image", "x"],
    ] {
        let out = stackctl(dir.path(), args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("using stack `team-a-rcnn` from ./stackctl.yaml"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // JSON on stdout stays one parseable document; the line is on stderr only.
    let plan = stackctl(dir.path(), &["plan", "--offline", "--output", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(doc["stack"], "team-a-rcnn");
    assert_eq!(doc["file"], "./stackctl.yaml");
    // plan --offline says it has no account.
    assert!(doc["account"].is_null(), "{doc}");
    assert!(
        plan.stderr.contains("plan: no account (AWS not contacted)"),
        "{}",
        plan.stderr
    );
    // --quiet hides the line; --stack beats ./stackctl.yaml.
    let quiet = stackctl(dir.path(), &["validate", "--quiet"]);
    assert!(!quiet.stderr.contains("using stack"), "{}", quiet.stderr);
    write(dir.path(), "other.yaml", "name: other\n");
    let other = stackctl(dir.path(), &["validate", "--stack", "other.yaml"]);
    assert!(
        other.stderr.contains("using stack `other` from other.yaml"),
        "{}",
        other.stderr
    );
}

#[test]
fn custom_templates_replace_embedded_ones_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = fs_err::read_to_string(
        crate::support::root().join("templates/cloudformation/efs.yaml.hbs"),
    )
    .unwrap();
    write(
        dir.path(),
        "tpl/cloudformation/efs.yaml.hbs",
        &embedded.replace(
            "Encrypted: true",
            "Encrypted: true\n      # customised by the platform team",
        ),
    );
    let out = stackctl(dir.path(), &["render", "--templates", "tpl"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("# customised by the platform team"));

    // A misspelt value fails in strict mode instead of rendering as empty text.
    write(
        dir.path(),
        "typo/cloudformation/efs.yaml.hbs",
        &embedded.replace("efs.throughput_mode", "efs.throughput_mod"),
    );
    let out = stackctl(dir.path(), &["render", "--templates", "typo"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("throughput_mod"), "{}", out.stderr);

    // A template that does not compile names its file.
    write(
        dir.path(),
        "broken/cloudformation/fsx.yaml.hbs",
        "{{#if fsx}}\n  X: 1\n",
    );
    let out = stackctl(dir.path(), &["render", "--templates", "broken"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("broken/cloudformation/fsx.yaml.hbs"),
        "{}",
        out.stderr
    );

    // A dangling reference is caught by the check of the rendered text.
    write(
        dir.path(),
        "dangling/cloudformation/efs.yaml.hbs",
        &embedded.replace("{{../refs.efs}}", "!Ref EfsFileSistem"),
    );
    let out = stackctl(dir.path(), &["render", "--templates", "dangling"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("`EfsFileSistem`"), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    let out = stackctl(dir.path(), &["render", "--templates", "no-such-dir"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no-such-dir"));
}

#[test]
fn docs_stack_file_md_documents_every_key_with_its_default() {
    let docs = fs_err::read_to_string(crate::support::root().join("docs/stack-file.md")).unwrap();
    let mut missing = Vec::new();
    use stackctl::spec::schema::{Absent, fields};
    for field in fields().iter().filter(|f| !f.path.is_empty()) {
        let row = format!("| `{}` | ", field.path);
        match docs.find(&row) {
            None => missing.push(format!("{} (no row)", field.path)),
            Some(at) => {
                let default = docs[at + row.len()..].split(" |").next().unwrap();
                // What the key means when absent is said in words, in parentheses.
                let ok = match &field.absent {
                    Absent::Required => default == "-",
                    Absent::Default(value) => default == format!("`{value}`"),
                    Absent::Described => default.starts_with('(') && default.ends_with(')'),
                };
                if !ok {
                    missing.push(format!(
                        "{}: docs say {default}, code says {:?}",
                        field.path, field.absent
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/stack-file.md is out of date: {missing:#?}"
    );
}

/// Options that cannot apply are not offered, or are refused with the reason (issue 12, item
/// 11): `image` offers only the models it has an image for, `job render` only those that run
/// as an MPIJob, and `init`, which calls no AWS API, refuses the AWS options.
#[test]
fn options_that_cannot_apply_are_not_offered_or_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (args, offered, not_offered) in [
        (
            &["image", "push", "--help"][..],
            &["tensorpack", "aws-samples"][..],
            &["object-detection", "detectron2"][..],
        ),
        (
            &["job", "render", "--help"],
            &["tensorpack", "aws-samples", "detectron2"],
            &["object-detection"],
        ),
    ] {
        let help = stackctl(dir.path(), args);
        assert_eq!(help.code, 0, "{}", help.stderr);
        for model in offered {
            assert!(
                help.stdout.contains(&format!("- {model}:")),
                "{args:?}: {model}:\n{}",
                help.stdout
            );
        }
        for model in not_offered {
            assert!(
                !help.stdout.contains(model),
                "{args:?} offers {model}:\n{}",
                help.stdout
            );
        }
    }
    for args in [
        &["image", "push", "--model", "object-detection", "--dry-run"][..],
        &["job", "render", "--model", "object-detection"],
    ] {
        let out = stackctl(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("invalid value 'object-detection' for '--model <MODEL>'"),
            "{args:?}: {}",
            out.stderr
        );
    }
    for (args, says) in [
        (
            &["init", "-", "--endpoint-url", "http://127.0.0.1:1"][..],
            "--endpoint-url does not apply to `init`: init calls no AWS API",
        ),
        (
            &["--region", "us-west-2", "init", "-"],
            "--region does not apply to `init`: init calls no AWS API (set `region:` in the file it writes)",
        ),
        (
            &["init", "--profile", "p", "-"],
            "--profile does not apply to `init`",
        ),
        (
            &["--stack", "mine.yaml", "init"],
            "--stack does not apply to `init`: init writes the file its PATH argument names (`stackctl init FILE`)",
        ),
    ] {
        let out = stackctl(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?} wrote {}", out.stdout);
    }
    assert!(
        !dir.path().join("stackctl.yaml").exists(),
        "nothing was written"
    );
    // The environment's stack file is for every command; init still writes.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackctl"));
    let env_ok = cmd
        .args(["init", "-"])
        .env("STACKCTL_STACK", "elsewhere.yaml")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        env_ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&env_ok.stderr)
    );
}

/// `job submit --instance-type` is checked as the stack file's jobs.instance_type is: the same
/// message and `allowed:` line, exit 2, before any AWS call (no endpoint is given). (`job
/// render` takes EKS node types, p4d.24xlarge, checked against its GPU table.)
#[test]
fn instance_type_flags_are_checked_as_the_stack_file_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.yaml",
        "name: t\njobs:\n  instance_type: p3.16xlarge\n",
    );
    let from_file = stackctl(dir.path(), &["--stack", file.to_str().unwrap(), "validate"]);
    assert_eq!(from_file.code, 2, "{}", from_file.stderr);
    let message = "`p3.16xlarge` is not a SageMaker instance type\n  allowed: a SageMaker instance type: ml.<family>.<size>, e.g. ml.p3.16xlarge";
    assert!(from_file.stderr.contains(message), "{}", from_file.stderr);
    let args = [
        "job",
        "submit",
        "--model",
        "tensorpack",
        "--instance-type",
        "p3.16xlarge",
    ];
    let out = stackctl(dir.path(), &args);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("invalid value 'p3.16xlarge' for '--instance-type <TYPE>'")
            && out.stderr.contains(message),
        "{}",
        out.stderr
    );
}

/// Every line of a real command's tables fits 100 columns (issue 12, item 11): `plan
/// --offline` prints the resources, outputs and the cost table, whose notes are the widest.
#[test]
fn plan_output_fits_100_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["plan", "--offline"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Estimated cost"), "{}", out.stdout);
    let wide: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.chars().count() > 100)
        .collect();
    assert!(
        wide.is_empty(),
        "lines over 100 columns:\n{}",
        wide.join("\n")
    );
    // The EFS note wraps inside its column: its continuation starts under the NOTE heading.
    let note_col = out
        .stdout
        .lines()
        .find(|l| l.contains("NOTE"))
        .unwrap()
        .find("NOTE")
        .unwrap();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let efs = lines
        .iter()
        .position(|l| l.contains("EFS storage"))
        .unwrap();
    let next = lines[efs + 1];
    assert!(
        next[..note_col].trim().is_empty() && !next[note_col..].starts_with(' '),
        "{}\n{next}",
        lines[efs]
    );
}
