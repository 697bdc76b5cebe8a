//! The JSON Schema of the stack file (`stackctl schema`, issue 13, item 6), checked with a real
//! validator, check-jsonschema (scripts/install-dev-tools.sh), in each of its regex dialects
//! (ECMA 262 with and without Unicode, Python), since editors differ: it is a valid draft 07
//! schema; it accepts what `init` writes, stacks/ and every stack file of the render matrix;
//! and it rejects each structural case of the bad-input corpus (stack_file_errors.rs) at the
//! field or the mapping around it, while accepting the cases only a rule across fields catches.
//! Also: `init` writes the schema beside the stack file, `schema --out` refreshes it, and a
//! stale copy is said.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::render_matrix::CONFIGS;
use crate::stack_file_errors::{CASES, Schema};
use crate::support::{dev_tool, root, stackctl, write};

/// check-jsonschema's JSON report of `files` against `schema`.
fn check(dir: &Path, schema: &str, files: &[String], variant: &str) -> Value {
    let out = Command::new(dev_tool("check-jsonschema"))
        .args([
            "--schemafile",
            schema,
            "--regex-variant",
            variant,
            "-o",
            "JSON",
        ])
        .args(files)
        .current_dir(dir)
        .output()
        .expect("check-jsonschema runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema's report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The errors a report has for `file`, as (path, message); the path without `$.`.
fn errors_of<'a>(report: &'a Value, file: &str) -> Vec<(String, &'a str)> {
    report["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["filename"] == file)
        .map(|e| {
            let path = e["path"].as_str().unwrap_or_default();
            let path = path.trim_start_matches('$').trim_start_matches('.');
            (path.to_owned(), e["message"].as_str().unwrap_or_default())
        })
        .collect()
}

fn parse_failed(report: &Value, file: &str) -> bool {
    report["parse_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["filename"] == file)
}

/// `network.private_subnet_cidrs[1]` is at or under `network`, `` and itself.
fn at_or_under(field: &str, error_path: &str) -> bool {
    let field = if field == "(document)" { "" } else { field };
    error_path.is_empty()
        || field == error_path
        || field
            .strip_prefix(error_path)
            .is_some_and(|rest| rest.starts_with(['.', '[']))
}

#[test]
fn the_schema_accepts_the_valid_stack_files_and_rejects_the_structural_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init = stackctl(d, &["init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let printed = stackctl(d, &["schema"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert_eq!(
        fs_err::read_to_string(d.join("stackctl.schema.json")).unwrap(),
        printed.stdout,
        "init writes what `stackctl schema` prints"
    );

    // A draft 07 schema, by the draft's own meta-schema.
    let meta = Command::new(dev_tool("check-jsonschema"))
        .args(["--check-metaschema", "stackctl.schema.json"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        meta.status.success(),
        "{}{}",
        String::from_utf8_lossy(&meta.stdout),
        String::from_utf8_lossy(&meta.stderr)
    );

    let mut valid = vec!["stackctl.yaml".to_owned()];
    for entry in fs_err::read_dir(root().join("stacks")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = format!("stacks-{}", path.file_name().unwrap().to_string_lossy());
            write(d, &name, &fs_err::read_to_string(&path).unwrap());
            valid.push(name);
        }
    }
    for (name, body) in CONFIGS {
        let file = format!("matrix-{name}.yaml");
        write(d, &file, &format!("name: t-{name}\n{body}"));
        valid.push(file);
    }
    for file in &valid {
        let out = stackctl(d, &["validate", "--stack", file]);
        assert_eq!(out.code, 0, "{file} is a valid stack file: {}", out.stderr);
    }
    let bad: Vec<String> = (0..CASES.len()).map(|i| format!("bad{i}.yaml")).collect();
    for (case, file) in CASES.iter().zip(&bad) {
        write(d, file, case.yaml);
    }
    let all: Vec<String> = valid.iter().chain(&bad).cloned().collect();
    let rejected = CASES.iter().filter(|c| c.schema == Schema::Rejects).count();
    assert!(rejected >= 30, "{rejected}");

    for variant in ["default", "nonunicode", "python"] {
        let report = check(d, "stackctl.schema.json", &all, variant);
        let mut wrong = Vec::new();
        for file in &valid {
            let errors = errors_of(&report, file);
            if !errors.is_empty() || parse_failed(&report, file) {
                wrong.push(format!("{file}: valid, but {errors:?}"));
            }
        }
        for (case, file) in CASES.iter().zip(&bad) {
            let errors = errors_of(&report, file);
            let unparsable = parse_failed(&report, file);
            let ok = match case.schema {
                Schema::Rejects => {
                    !unparsable && errors.iter().any(|(path, _)| at_or_under(case.field, path))
                }
                Schema::Accepts => !unparsable && errors.is_empty(),
                Schema::Unparsable => unparsable,
            };
            if !ok {
                wrong.push(format!(
                    "`{}` ({file}, {}): the schema should say {:?}; it says {errors:?}, unparsable: {unparsable}",
                    case.name, case.field, case.schema
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "with --regex-variant {variant}:\n{}",
            wrong.join("\n")
        );
    }
}

#[test]
fn schema_out_refreshes_a_stale_copy_and_a_stale_copy_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(stackctl(d, &["init"]).code, 0);
    let fresh = stackctl(d, &["validate"]);
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    assert!(
        !fresh.stderr.contains("not this stackctl's schema"),
        "{}",
        fresh.stderr
    );

    // As if written by an older stackctl.
    write(d, "stackctl.schema.json", "{\"type\": \"object\"}\n");
    let stale = stackctl(d, &["validate"]);
    assert_eq!(stale.code, 0, "{}", stale.stderr);
    assert!(
        stale.stderr.contains(
            "stackctl.schema.json (which the stack file's $schema line names) is not this stackctl's schema"
        ) && stale.stderr.contains("stackctl schema --out ./stackctl.schema.json"),
        "{}",
        stale.stderr
    );

    let out = stackctl(d, &["schema", "--out", "stackctl.schema.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("wrote stackctl.schema.json"),
        "{}",
        out.stderr
    );
    let again = stackctl(d, &["validate"]);
    assert!(
        !again.stderr.contains("not this stackctl's schema"),
        "{}",
        again.stderr
    );

    // `init -` prints the one document and writes nothing.
    let other = tempfile::tempdir().unwrap();
    let to_stdout = stackctl(other.path(), &["init", "-"]);
    assert_eq!(to_stdout.code, 0);
    assert!(
        to_stdout
            .stdout
            .starts_with("# yaml-language-server: $schema=./stackctl.schema.json\n")
    );
    assert!(serde_yaml::from_str::<serde_yaml::Value>(&to_stdout.stdout).is_ok());
    assert_eq!(
        fs_err::read_dir(other.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// The schema carries the descriptions, defaults and ranges the types have (what editors show
/// on hover and offer on completion).
#[test]
fn the_schema_has_the_descriptions_defaults_and_ranges_of_the_types() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["schema"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let schema: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["required"], serde_json::json!(["name"]));
    assert_eq!(schema["additionalProperties"], false);
    let defs = &schema["definitions"];
    let network = &defs["NetworkSection"]["properties"];
    assert_eq!(network["vpc_cidr"]["default"], "172.30.0.0/16");
    assert_eq!(network["availability_zones"]["default"], 3);
    assert!(
        network["availability_zones"]["description"]
            .as_str()
            .unwrap()
            .contains("one private subnet in each")
    );
    assert_eq!(defs["AzCount"]["minimum"], 2);
    assert_eq!(defs["AzCount"]["maximum"], 6);
    assert_eq!(defs["NotebookVolumeGib"]["minimum"], 5);
    assert_eq!(defs["StackName"]["maxLength"], 53);
    assert_eq!(
        defs["JobsSection"]["properties"]["instance_count"]["default"],
        4
    );
    assert_eq!(schema["properties"]["tags"]["maxProperties"], 46);
    let nat: Vec<&str> = defs["NatMode"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["enum"][0].as_str().or(v["const"].as_str()).unwrap())
        .collect();
    assert_eq!(nat, ["single", "per-az"]);
    // `--output json`: the schema itself, not a string.
    let json = stackctl(dir.path(), &["schema", "--output", "json"]);
    let doc: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(doc["schema"], schema);
    assert_eq!(doc["out"], Value::Null);
    assert_eq!(doc["bytes"], out.stdout.len());
}
