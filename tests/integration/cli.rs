//! The command line: help, init, render, plan, custom templates, pipes.

use std::process::{Command, Stdio};

use crate::support::{stackctl, write};

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
    let embedded = stackctl(dir.path(), &["render"]);
    assert_eq!(from_file.code, 0);
    assert_eq!(from_file.stdout, embedded.stdout);

    let stdout = stackctl(dir.path(), &["init", "-"]);
    assert_eq!(stdout.stdout, written);
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
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
    for field in stackctl::spec::schema::FIELDS
        .iter()
        .filter(|f| !f.path.is_empty())
    {
        let row = format!("| `{}` | ", field.path);
        match docs.find(&row) {
            None => missing.push(format!("{} (no row)", field.path)),
            Some(at) => {
                let default = docs[at + row.len()..].split(" |").next().unwrap();
                let want = if field.default.starts_with('(') || field.default == "-" {
                    field.default.to_owned()
                } else {
                    format!("`{}`", field.default)
                };
                if default != want {
                    missing.push(format!(
                        "{}: docs say {default}, code says {want}",
                        field.path
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
