//! insta snapshots of what users read (issue 13, item 8): the `--help` of every command and
//! subcommand (walked from clap's command tree, so a new command is covered without an edit
//! here), one message of each error class, and the rendered template of every configuration of
//! the render matrix. A change to any of them shows in review as a snapshot diff
//! (docs/testing.md: `INSTA_UPDATE=always` writes the new ones; CI fails on a difference).
//! Ports, temporary paths and times are filtered.

use clap::CommandFactory;

use crate::deploy_up::stackctl_aws;
use crate::support::{stackctl, write};

/// Filters for what differs between runs: loopback ports, temporary directories, times.
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"/tmp/[^\s`'\)]+", "[tmp]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
        (r"\d+\.\d+ s\b", "[secs] s"),
    ]
}

/// Every command path with its long help, depth first: `stackctl`, `stackctl job`, `stackctl
/// job submit`, ...
fn helps(cmd: &mut clap::Command, path: &str, out: &mut Vec<(String, String)>) {
    let text = cmd.render_long_help().to_string();
    out.push((path.to_owned(), text));
    let names: Vec<String> = cmd
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        let sub = cmd.find_subcommand_mut(&name).unwrap();
        helps(sub, &format!("{path} {name}"), out);
    }
}

#[test]
fn help_of_every_command() {
    let mut cmd = stackctl::cli::Cli::command().term_width(100);
    cmd.build();
    let mut all = Vec::new();
    helps(&mut cmd, "stackctl", &mut all);
    assert!(all.len() > 20, "{} commands", all.len());
    for (path, text) in all {
        let name = format!("help__{}", path.replace(' ', "__"));
        insta::assert_snapshot!(name, text, &path);
    }
}

/// One message of each error class a user meets without an AWS account: bad stack file, usage,
/// no region, no credentials, unreachable endpoint, a flag that cannot go with JSON, a render
/// error, a job input error, a missing stack (the emulator-backed classes — a failed operation,
/// an interruption, preflight findings — are asserted in their own tests).
#[test]
fn error_messages_of_each_class() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "bad.yaml",
        "name: 1bad\nnotbook: {}\nnetwork:\n  availability_zones: 9\n",
    );
    write(d, "templates/cloudformation/efs.yaml.hbs", "{{#if}}\n");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("stack_file", vec!["validate", "--stack", "bad.yaml"]),
        (
            "missing_stack_file",
            vec!["validate", "--stack", "none.yaml"],
        ),
        ("usage", vec!["up", "--bogus"]),
        ("bad_value", vec!["job", "submit", "--model", "resnet"]),
        (
            "json_conflict",
            vec!["outputs", "--format", "env", "--output", "json"],
        ),
        ("render", vec!["render", "--templates", "templates"]),
        ("unreachable", vec!["status", "--endpoint-url", &closed]),
        (
            "job_input",
            vec!["job", "render", "--model", "tensorpack", "-p", "nonsense=1"],
        ),
    ];
    insta::with_settings!({filters => filters()}, {
        for (name, args) in cases {
            let out = stackctl_aws(None, d, &args);
            let text = format!("exit {}\n--- stderr\n{}", out.code, out.stderr);
            insta::assert_snapshot!(format!("error__{name}"), text, &args.join(" "));
        }
        // No region anywhere, and no credentials anywhere.
        for (name, env) in [("no_region", "AWS_REGION"), ("no_credentials", "AWS_ACCESS_KEY_ID")] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackctl"))
                .arg("status")
                .current_dir(d)
                .env_clear()
                .env("HOME", d)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "x")
                .env("AWS_SECRET_ACCESS_KEY", "x")
                .env_remove(env)
                .env("AWS_CONFIG_FILE", d.join("none"))
                .env("AWS_SHARED_CREDENTIALS_FILE", d.join("none"))
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .output()
                .unwrap();
            let text = format!(
                "exit {}\n--- stderr\n{}",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr)
            );
            insta::assert_snapshot!(format!("error__{name}"), text);
        }
    });
}

/// The rendered template of every configuration of the render matrix.
#[test]
fn rendered_template_of_every_configuration() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in crate::render_matrix::CONFIGS {
        write(dir.path(), "s.yaml", &format!("name: snap-{name}\n{body}"));
        let out = stackctl(dir.path(), &["render", "--stack", "s.yaml"]);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        insta::assert_snapshot!(format!("template__{name}"), out.stdout);
    }
}
