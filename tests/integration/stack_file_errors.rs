//! Bad stack files: each must exit 2 and name the file, line:column, the field and what is
//! allowed, before any AWS call (these runs have no credentials and no endpoint at all).

use crate::support::{stackctl, write};

pub(crate) struct Case {
    pub name: &'static str,
    pub yaml: &'static str,
    /// `line:column` of the problem.
    at: &'static str,
    /// Field path as printed.
    pub field: &'static str,
    /// A fragment of the message.
    says: &'static str,
    /// What the JSON Schema (`stackctl schema`) makes of the file (the `schema` tests).
    pub schema: Schema,
}

/// What the JSON Schema says of a bad stack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    /// It rejects the file at the field or the mapping or list around it: a problem of one
    /// value (unknown key, wrong type, out of range, pattern, count).
    Rejects,
    /// It accepts the file: a rule across fields, which only `stackctl validate` checks.
    Accepts,
    /// The file is not YAML; no schema applies.
    Unparsable,
}

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "syntax error: unclosed quote",
        yaml: "name: demo\nnetwork:\n  nat: \"single\n",
        at: "3:8",
        field: "network.nat",
        says: "YAML syntax error: while scanning a quoted scalar",
        schema: Schema::Unparsable,
    },
    Case {
        name: "syntax error: bad indentation",
        yaml: "name: demo\nnetwork:\n  nat: single\n nat2: x\n",
        at: "4:6",
        field: "(document)",
        says: "YAML syntax error",
        schema: Schema::Unparsable,
    },
    Case {
        name: "empty file",
        yaml: "",
        at: "1:1",
        field: "(document)",
        says: "the stack file is empty",
        schema: Schema::Rejects,
    },
    Case {
        name: "comments only",
        yaml: "# nothing here\n",
        at: "1:1",
        field: "(document)",
        says: "the stack file is empty",
        schema: Schema::Rejects,
    },
    Case {
        name: "missing name",
        yaml: "region: us-west-2\n",
        at: "1:1",
        field: "(document)",
        says: "missing field `name`",
        schema: Schema::Rejects,
    },
    Case {
        name: "unknown top-level key",
        yaml: "name: demo\nnetwrok: {}\n",
        at: "2:1",
        field: "netwrok",
        says: "unknown field `netwrok`",
        schema: Schema::Rejects,
    },
    Case {
        name: "unknown nested key",
        yaml: "name: demo\nefs:\n  retian: true\n",
        at: "3:3",
        field: "efs.retian",
        says: "unknown field `retian`",
        schema: Schema::Rejects,
    },
    Case {
        name: "wrong type",
        yaml: "name: demo\nnetwork:\n  availability_zones: three\n",
        at: "3:23",
        field: "network.availability_zones",
        says: "invalid type: string \"three\"",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad stack name",
        yaml: "name: 9lives\n",
        at: "1:7",
        field: "name",
        says: "`9lives` is not a valid stack name",
        schema: Schema::Rejects,
    },
    Case {
        name: "stack name too long",
        yaml: "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        at: "1:7",
        field: "name",
        says: "is not a valid stack name",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad region",
        yaml: "name: demo\nregion: uswest2\n",
        at: "2:9",
        field: "region",
        says: "not an AWS region name",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad CIDR",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.0/33\n",
        at: "3:13",
        field: "network.vpc_cidr",
        says: "not an IPv4 CIDR block",
        schema: Schema::Rejects,
    },
    Case {
        name: "CIDR with host bits",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.1/16\n",
        at: "3:13",
        field: "network.vpc_cidr",
        says: "host bits set",
        schema: Schema::Rejects,
    },
    Case {
        name: "VPC too large",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.0/8\n",
        at: "3:13",
        field: "network.vpc_cidr",
        says: "AWS allows /16 to /28",
        schema: Schema::Rejects,
    },
    Case {
        name: "VPC too small to carve",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.0/27\n",
        at: "3:13",
        field: "network.vpc_cidr",
        says: "too small for 3 private and 1 public subnets",
        schema: Schema::Accepts,
    },
    Case {
        name: "subnet outside VPC",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.0/16\n  private_subnet_cidrs:\n    - 10.0.0.0/18\n    - 10.1.0.0/18\n    - 10.0.128.0/18\n",
        at: "6:7",
        field: "network.private_subnet_cidrs[1]",
        says: "10.1.0.0/18 is outside the VPC 10.0.0.0/16",
        schema: Schema::Accepts,
    },
    Case {
        name: "overlapping subnets",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.0/16\n  private_subnet_cidrs: [10.0.0.0/18, 10.0.32.0/19, 10.0.128.0/18]\n",
        at: "4:39",
        field: "network.private_subnet_cidrs[1]",
        says: "overlaps network.private_subnet_cidrs[0]",
        schema: Schema::Accepts,
    },
    Case {
        name: "public overlaps private",
        yaml: "name: demo\nnetwork:\n  public_subnet_cidrs: [172.30.0.0/24]\n  private_subnet_cidrs: [172.30.0.0/18, 172.30.64.0/18, 172.30.128.0/18]\n",
        at: "4:26",
        field: "network.private_subnet_cidrs[0]",
        says: "overlaps network.public_subnet_cidrs[0]",
        schema: Schema::Accepts,
    },
    Case {
        name: "too few AZs",
        yaml: "name: demo\nnetwork:\n  availability_zones: 1\n",
        at: "3:23",
        field: "network.availability_zones",
        says: "1 is out of range: allowed is 2..=6",
        schema: Schema::Rejects,
    },
    Case {
        name: "subnet count differs from AZs",
        yaml: "name: demo\nnetwork:\n  availability_zones: 2\n  private_subnet_cidrs: [172.30.0.0/18, 172.30.64.0/18, 172.30.128.0/18]\n",
        at: "4:3",
        field: "network.private_subnet_cidrs",
        says: "3 private subnets given for availability_zones: 2",
        schema: Schema::Accepts,
    },
    Case {
        name: "per-az NAT with one public subnet",
        yaml: "name: demo\nnetwork:\n  nat: per-az\n  public_subnet_cidrs: [172.30.192.0/24]\n",
        at: "4:3",
        field: "network.public_subnet_cidrs",
        says: "nat: per-az needs one public subnet per zone",
        schema: Schema::Accepts,
    },
    Case {
        name: "bad NAT mode",
        yaml: "name: demo\nnetwork:\n  nat: double\n",
        at: "3:8",
        field: "network.nat",
        says: "unknown variant `double`",
        schema: Schema::Rejects,
    },
    Case {
        name: "existing VPC mixed with vpc_cidr",
        yaml: "name: demo\nnetwork:\n  vpc_cidr: 10.0.0.0/16\n  existing:\n    vpc_id: vpc-0123abcd\n    private_subnet_ids: [subnet-0123abcd]\n    security_group_id: sg-0123abcd\n",
        at: "3:13",
        field: "network.vpc_cidr",
        says: "cannot be combined with `network.existing`",
        schema: Schema::Accepts,
    },
    Case {
        name: "bad subnet id",
        yaml: "name: demo\nnetwork:\n  existing:\n    vpc_id: vpc-0123abcd\n    private_subnet_ids: [subnet-xyz]\n    security_group_id: sg-0123abcd\n",
        at: "5:26",
        field: "network.existing.private_subnet_ids[0]",
        says: "`subnet-xyz` is not a valid subnet id",
        schema: Schema::Rejects,
    },
    Case {
        name: "duplicate subnet id",
        yaml: "name: demo\nnetwork:\n  existing:\n    vpc_id: vpc-0123abcd\n    private_subnet_ids: [subnet-0123abcd, subnet-0123abcd]\n    security_group_id: sg-0123abcd\n",
        at: "5:43",
        field: "network.existing.private_subnet_ids[1]",
        says: "listed twice",
        schema: Schema::Rejects,
    },
    Case {
        name: "no subnets in existing VPC",
        yaml: "name: demo\nnetwork:\n  existing:\n    vpc_id: vpc-0123abcd\n    private_subnet_ids: []\n    security_group_id: sg-0123abcd\n",
        at: "5:5",
        field: "network.existing.private_subnet_ids",
        says: "0 subnets given; SageMaker accepts 1 to 16",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad bucket name",
        yaml: "name: demo\ndata:\n  bucket: My_Bucket\n",
        at: "3:11",
        field: "data.bucket",
        says: "not a valid S3 bucket name",
        schema: Schema::Rejects,
    },
    Case {
        name: "bucket name like an IP",
        yaml: "name: demo\ndata:\n  bucket: 192.168.5.4\n",
        at: "3:11",
        field: "data.bucket",
        says: "must not look like an IP address",
        schema: Schema::Rejects,
    },
    Case {
        name: "prefix with leading slash",
        yaml: "name: demo\ndata:\n  prefix: /mask-rcnn\n",
        at: "3:11",
        field: "data.prefix",
        says: "without a leading or trailing `/`",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad EFS id",
        yaml: "name: demo\nefs:\n  existing_id: fs-12345\n",
        at: "3:16",
        field: "efs.existing_id",
        says: "8 or 17 lowercase hex digits",
        schema: Schema::Rejects,
    },
    Case {
        name: "retain with existing EFS",
        yaml: "name: demo\nefs:\n  existing_id: fs-0123456789abcdef0\n  retain: false\n",
        at: "4:11",
        field: "efs.retain",
        says: "applies only to a file system the stack creates",
        schema: Schema::Accepts,
    },
    Case {
        name: "EFS without mount targets in a created VPC",
        yaml: "name: demo\nefs:\n  create_mount_targets: false\n",
        at: "3:25",
        field: "efs.create_mount_targets",
        says: "mount targets can be skipped only",
        schema: Schema::Accepts,
    },
    Case {
        name: "bad FSx capacity for SCRATCH_2",
        yaml: "name: demo\nfsx:\n  storage_gib: 3600\n",
        at: "3:16",
        field: "fsx.storage_gib",
        says: "3600 GiB is not a valid capacity for SCRATCH_2",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad FSx capacity for PERSISTENT_2",
        yaml: "name: demo\nfsx:\n  deployment_type: PERSISTENT_2\n  storage_gib: 4000\n",
        at: "4:16",
        field: "fsx.storage_gib",
        says: "not a valid capacity for PERSISTENT_2",
        schema: Schema::Rejects,
    },
    Case {
        name: "FSx capacity below minimum",
        yaml: "name: demo\nfsx:\n  storage_gib: 600\n",
        at: "3:16",
        field: "fsx.storage_gib",
        says: "600 is out of range",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad FSx deployment type",
        yaml: "name: demo\nfsx:\n  deployment_type: SCRATCH_1\n",
        at: "3:20",
        field: "fsx.deployment_type",
        says: "unknown variant `SCRATCH_1`",
        schema: Schema::Rejects,
    },
    Case {
        name: "throughput on SCRATCH_2",
        yaml: "name: demo\nfsx:\n  per_unit_storage_throughput: 250\n",
        at: "3:32",
        field: "fsx.per_unit_storage_throughput",
        says: "applies only to PERSISTENT_2",
        schema: Schema::Accepts,
    },
    Case {
        name: "bad PERSISTENT_2 throughput",
        yaml: "name: demo\nfsx:\n  deployment_type: PERSISTENT_2\n  per_unit_storage_throughput: 200\n",
        at: "4:32",
        field: "fsx.per_unit_storage_throughput",
        says: "200 MB/s per TiB is not offered",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad notebook instance type",
        yaml: "name: demo\nnotebook:\n  instance_type: m5.2xlarge\n",
        at: "3:18",
        field: "notebook.instance_type",
        says: "`m5.2xlarge` is not a SageMaker instance type",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad job instance type",
        yaml: "name: demo\njobs:\n  instance_type: ml.p3.16xl\n",
        at: "3:18",
        field: "jobs.instance_type",
        says: "not a SageMaker instance type",
        schema: Schema::Rejects,
    },
    Case {
        name: "notebook volume too small",
        yaml: "name: demo\nnotebook:\n  volume_gib: 4\n",
        at: "3:15",
        field: "notebook.volume_gib",
        says: "4 is out of range: allowed is 5..=16384",
        schema: Schema::Rejects,
    },
    Case {
        name: "max run over 28 days",
        yaml: "name: demo\njobs:\n  max_run_seconds: 2419201\n",
        at: "3:20",
        field: "jobs.max_run_seconds",
        says: "out of range",
        schema: Schema::Rejects,
    },
    Case {
        name: "git URL with credentials",
        yaml: "name: demo\nnotebook:\n  git:\n    url: https://user:token@github.com/org/repo.git\n",
        at: "4:10",
        field: "notebook.git.url",
        says: "contains credentials",
        schema: Schema::Rejects,
    },
    Case {
        name: "git secret is not a Secrets Manager ARN",
        yaml: "name: demo\nnotebook:\n  git:\n    url: https://github.com/org/repo.git\n    secret_arn: my-token\n",
        at: "5:17",
        field: "notebook.git.secret_arn",
        says: "not a Secrets Manager secret ARN",
        schema: Schema::Rejects,
    },
    Case {
        name: "git secret in another region",
        yaml: "name: demo\nregion: us-west-2\nnotebook:\n  git:\n    url: https://github.com/org/repo.git\n    secret_arn: arn:aws:secretsmanager:eu-west-1:123456789012:secret:git-AbCdEf\n",
        at: "6:17",
        field: "notebook.git.secret_arn",
        says: "the secret is in eu-west-1 but the stack is in us-west-2",
        schema: Schema::Accepts,
    },
    Case {
        name: "reserved tag key",
        yaml: "name: demo\ntags:\n  aws:owner: me\n",
        at: "3:3",
        field: "tags.aws:owner",
        says: "reserved `aws:` prefix",
        schema: Schema::Rejects,
    },
    Case {
        name: "unknown model image",
        yaml: "name: demo\njobs:\n  images:\n    yolo: 123456789012.dkr.ecr.us-west-2.amazonaws.com/yolo:1\n",
        at: "4:5",
        field: "jobs.images.yolo",
        says: "unknown variant `yolo`",
        schema: Schema::Rejects,
    },
    Case {
        name: "bad image URI",
        yaml: "name: demo\njobs:\n  images:\n    tensorpack: tensorpack\n",
        at: "4:5",
        field: "jobs.images.tensorpack",
        says: "not a container image URI",
        schema: Schema::Rejects,
    },
    Case {
        name: "image in another region",
        yaml: "name: demo\nregion: us-west-2\njobs:\n  images:\n    tensorpack: 123456789012.dkr.ecr.us-east-1.amazonaws.com/tp:1\n",
        at: "5:17",
        field: "jobs.images.tensorpack",
        says: "the image is in ECR in us-east-1",
        schema: Schema::Accepts,
    },
    Case {
        name: "unknown key close to a known one",
        yaml: "name: demo\nnotbook:\n  enabled: false\n",
        at: "2:1",
        field: "notbook",
        says: "unknown field `notbook`; did you mean `notebook`?",
        schema: Schema::Rejects,
    },
    Case {
        name: "unknown nested key close to a known one",
        yaml: "name: demo\nfsx:\n  storage: 2400\n",
        at: "3:3",
        field: "fsx.storage",
        says: "unknown field `storage`; did you mean `storage_gib`?",
        schema: Schema::Rejects,
    },
    Case {
        name: "unknown value close to a known one",
        yaml: "name: demo\nnetwork:\n  nat: singel\n",
        at: "3:8",
        field: "network.nat",
        says: "unknown variant `singel`, expected `single` or `per-az`; did you mean `single`?",
        schema: Schema::Rejects,
    },
    Case {
        name: "unknown model close to a known one",
        yaml: "name: demo\njobs:\n  images:\n    tensorpak: 123456789012.dkr.ecr.us-west-2.amazonaws.com/tp:1\n",
        at: "4:5",
        field: "jobs.images.tensorpak",
        says: "did you mean `tensorpack`?",
        schema: Schema::Rejects,
    },
    Case {
        name: "a list instead of a mapping",
        yaml: "- name: demo\n",
        at: "1:1",
        field: "(document)",
        says: "invalid type: sequence",
        schema: Schema::Rejects,
    },
];

#[test]
fn every_bad_stack_file_exits_2_with_file_line_field_and_allowed() {
    assert!(CASES.len() >= 25);
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let file = format!("case{i}.yaml");
        write(dir.path(), &file, case.yaml);
        for command in ["validate", "render", "plan"] {
            let out = stackctl(dir.path(), &[command, "--stack", &file]);
            let expected = format!("{file}:{}: {}: ", case.at, case.field);
            let ok = out.code == 2
                && out.stdout.is_empty()
                && out.stderr.contains(&expected)
                && out.stderr.contains(case.says)
                && out.stderr.contains("\n  allowed: ");
            if !ok {
                failures.push(format!(
                    "case `{}` with `{command}`: want exit 2 and `{expected}...{}`, got exit {}:\n{}",
                    case.name, case.says, out.code, out.stderr
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn all_problems_are_reported_at_once_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "multi.yaml",
        "name: demo\nfsx:\n  storage_gib: 3600\nefs:\n  existing_id: fs-0123abcd\n  retain: false\n",
    );
    let out = stackctl(dir.path(), &["validate", "--stack", "multi.yaml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("(2 problems)"), "{}", out.stderr);
    let fsx = out.stderr.find("multi.yaml:3:16: fsx.storage_gib").unwrap();
    let efs = out.stderr.find("multi.yaml:6:11: efs.retain").unwrap();
    assert!(fsx < efs);
}

/// Type errors (which serde reports one at a time) are all reported in one run too, in file
/// order, together with an unknown key (issue 12, item 10).
#[test]
fn every_type_error_is_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "types.yaml",
        "name: demo\nfsx:\n  storage_gib: lots\nnotbook:\n  volume_gib: 5\nefs:\n  retain: maybe\njobs:\n  instance_count: 0\n",
    );
    let out = stackctl(dir.path(), &["validate", "--stack", "types.yaml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("(4 problems)"), "{}", out.stderr);
    let at = |needle: &str| {
        out.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}:\n{}", out.stderr))
    };
    let order = [
        at("types.yaml:3:16: fsx.storage_gib: invalid type: string \"lots\""),
        at("types.yaml:4:1: notbook: unknown field"),
        at("types.yaml:7:11: efs.retain: invalid type"),
        at("types.yaml:9:19: jobs.instance_count: 0 is out of range"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", out.stderr);
}

#[test]
fn json_output_carries_structured_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.yaml", "name: demo\ndata:\n  bucket: Bad\n");
    let out = stackctl(
        dir.path(),
        &["validate", "--stack", "bad.yaml", "--output", "json"],
    );
    assert_eq!(out.code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exit_code"], 2);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["file"], "bad.yaml");
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 11);
    assert_eq!(d["path"], "data.bucket");
    assert!(d["allowed"].as_str().unwrap().contains("bucket name"));
}

#[test]
fn a_missing_stack_file_is_bad_input_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl(dir.path(), &["plan", "--stack", "nope.yaml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("nope.yaml"), "{}", out.stderr);
}
