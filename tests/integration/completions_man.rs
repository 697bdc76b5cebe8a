//! Shell completions and manual pages (issue 13, item 5), generated from the command tree:
//! bash parses the bash script and completes commands and values with it; every shell's
//! script names the commands; groff renders every manual page without a warning (groff and
//! man-db come from scripts/install-dev-tools.sh).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::CommandFactory;

use crate::support::stackctl;

/// A system tool the install script provides; a missing one fails the test, never skips it.
fn system_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!("{name} is not installed; run scripts/install-dev-tools.sh (it installs it)")
    })
}

/// Every command path of the tree (`job submit`), groups included.
fn commands(cmd: &clap::Command, prefix: &str, into: &mut Vec<String>) {
    for sub in cmd.get_subcommands() {
        let name = format!("{prefix}{}", sub.get_name());
        into.push(name.clone());
        commands(sub, &format!("{name} "), into);
    }
}

/// What bash's completion offers for `line` (the words typed, the last one being completed).
fn complete(script: &Path, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let program = format!(
        "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT={}\n_stackctl stackctl '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" "),
        words.len() - 1,
        line.len(),
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new(system_tool("bash"))
        .args(["--norc", "-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn completion_scripts_for_every_shell_and_bash_completes_with_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut names = Vec::new();
    commands(&stackctl::cli::Cli::command(), "", &mut names);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = stackctl(d, &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for command in ["init", "schema", "completions", "submit", "reuse-data"] {
            assert!(
                out.stdout.contains(command),
                "{shell} script lacks {command}"
            );
        }
        let json = stackctl(d, &["completions", shell, "--output", "json"]);
        let doc: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
        assert_eq!(
            (doc["shell"].as_str(), doc["script"].as_str()),
            (Some(shell), Some(out.stdout.as_str()))
        );
    }
    let bad = stackctl(d, &["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);

    let script = d.join("stackctl.bash");
    fs_err::write(&script, stackctl(d, &["completions", "bash"]).stdout).unwrap();
    let syntax = Command::new(system_tool("bash"))
        .arg("-n")
        .arg(&script)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    assert_eq!(complete(&script, "stackctl sch"), ["schema"]);
    let top = complete(&script, "stackctl ");
    for command in ["init", "validate", "job", "completions", "man", "schema"] {
        assert!(top.iter().any(|w| w == command), "{command} in {top:?}");
    }
    let shells = complete(&script, "stackctl completions ");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(shells.iter().any(|w| w == shell), "{shell} in {shells:?}");
    }
    assert_eq!(complete(&script, "stackctl job sub"), ["submit"]);
}

/// groff's rendering of a page as plain text, failing on any warning (`-ww`) or error.
fn render(page: &[u8]) -> String {
    let mut child = Command::new(system_tool("groff"))
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), page).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "groff: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_manual_pages_render_and_cover_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = stackctl(d, &["man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = render(out.stdout.as_bytes());
    for word in [
        "NAME",
        "SYNOPSIS",
        "stackctl",
        "Exit codes",
        "--endpoint-url",
        "completions",
        "schema",
    ] {
        assert!(text.contains(word), "{word} in the page:\n{text}");
    }
    // man-db reads it too (`man -l`, as the README says).
    write_and_read_with_man(d, out.stdout.as_bytes());

    let written = stackctl(d, &["man", "--dir", "pages", "--output", "json"]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let doc: serde_json::Value = serde_json::from_str(written.stdout.trim()).unwrap();
    let mut names = Vec::new();
    commands(&stackctl::cli::Cli::command(), "", &mut names);
    let mut want: Vec<String> = names
        .iter()
        .map(|c| format!("stackctl-{}.1", c.replace(' ', "-")))
        .collect();
    want.push("stackctl.1".to_owned());
    want.sort();
    let mut files: Vec<String> = fs_err::read_dir(d.join("pages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, want);
    assert_eq!(doc["pages"].as_array().unwrap().len(), want.len());
    for file in &files {
        let page = fs_err::read(d.join("pages").join(file)).unwrap();
        let text = render(&page);
        assert!(text.contains("SYNOPSIS"), "{file}:\n{text}");
    }
    let submit = render(&fs_err::read(d.join("pages/stackctl-job-submit.1")).unwrap());
    assert!(submit.contains("--model"), "{submit}");
    assert_eq!(stackctl(d, &["man", "--stack", "x.yaml"]).code, 2);
}

fn write_and_read_with_man(dir: &Path, page: &[u8]) {
    let path = dir.join("stackctl.1");
    fs_err::write(&path, page).unwrap();
    let out = Command::new(system_tool("man"))
        .arg("-l")
        .arg(&path)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("SYNOPSIS"),
        "man -l: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
