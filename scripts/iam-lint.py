#!/usr/bin/env python3
"""Runs parliament on every IAM policy of rendered CloudFormation templates.

Usage: iam-lint.py TEMPLATE...

Each policy document (AWS::IAM::Role inline policies and trust policy, AWS::IAM::Policy,
AWS::S3::BucketPolicy) is taken from the template, its intrinsic functions are replaced by
plausible literal values (account 123456789012, region us-east-1, ids shaped like real ones),
and handed to parliament, which checks actions, resource ARNs against each action's resource
types and condition keys against the Service Authorization Reference it ships.

Prints one JSON object per line, {"template", "resource", "policy", "issue", "detail"}, and
a closing line `iam-lint: N policies, M findings`. Exit status 0 whether or not there are
findings (the caller decides which are explained); 2 on bad usage or an unreadable template.
"""

import json
import re
import sys

import yaml
from parliament import analyze_policy_string

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "stackctl-lint",
}


class Tagged:
    """A CloudFormation short-form intrinsic (!Ref, !Sub, !GetAtt, ...)."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value


def _construct(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(tag_suffix, value)


class Loader(yaml.SafeLoader):
    pass


Loader.add_multi_constructor("!", _construct)


def physical(logical, resources):
    """A plausible physical id for a resource the template creates."""
    rtype = resources.get(logical, {}).get("Type", "")
    shapes = {
        "AWS::EC2::VPC": "vpc-0123456789abcdef0",
        "AWS::EC2::Subnet": "subnet-0123456789abcdef0",
        "AWS::EC2::SecurityGroup": "sg-0123456789abcdef0",
        "AWS::EFS::FileSystem": "fs-0123456789abcdef0",
        "AWS::FSx::FileSystem": "fs-0123456789abcdef0",
        "AWS::S3::Bucket": "stackctl-lint-databucket-0123456789ab",
        "AWS::IAM::Role": "stackctl-lint-" + logical,
    }
    return shapes.get(rtype, logical.lower())


def get_att(logical, attribute, resources):
    rtype = resources.get(logical, {}).get("Type", "")
    pid = physical(logical, resources)
    if attribute == "Arn":
        if rtype == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{pid}"
        if rtype == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{pid}"
        return f"arn:aws:service:{REGION}:{ACCOUNT}:{logical.lower()}/{pid}"
    if attribute == "GroupId":
        return physical(logical, resources)
    return pid


def resolve(value, resources):
    """Replaces every intrinsic function by a literal value."""
    if isinstance(value, Tagged):
        return resolve({"Fn::" + value.tag if value.tag != "Ref" else "Ref": value.value}, resources)
    if isinstance(value, list):
        return [resolve(v, resources) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return PSEUDO.get(arg) or physical(arg, resources)
            if key == "Fn::GetAtt":
                logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return get_att(logical, attribute, resources)
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]

                def sub(match):
                    name = match.group(1)
                    if name.startswith("!"):
                        return "${" + name[1:] + "}"
                    if name in PSEUDO:
                        return PSEUDO[name]
                    if "." in name:
                        logical, attribute = name.split(".", 1)
                        return get_att(logical, attribute, resources)
                    return physical(name, resources)

                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in resolve(items, resources))
            if key in ("Fn::Select", "Fn::GetAZs", "Fn::Base64", "Fn::If"):
                return "resolved"
        return {k: resolve(v, resources) for k, v in value.items()}
    return value


def policies(doc):
    """(resource, label, kind, document) for every policy in the template; kind is
    "identity", "trust" (a role's trust policy) or "resource" (a bucket policy)."""
    resources = doc.get("Resources") or {}
    for logical, res in resources.items():
        rtype = res.get("Type")
        props = res.get("Properties") or {}
        if rtype == "AWS::IAM::Role":
            if "AssumeRolePolicyDocument" in props:
                yield logical, "AssumeRolePolicyDocument", "trust", props["AssumeRolePolicyDocument"]
            for p in props.get("Policies") or []:
                yield logical, p.get("PolicyName", "?"), "identity", p["PolicyDocument"]
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield logical, props.get("PolicyName", logical), "identity", props["PolicyDocument"]
        elif rtype == "AWS::S3::BucketPolicy":
            yield logical, "PolicyDocument", "resource", props["PolicyDocument"]


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    count = findings = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.load(f, Loader=Loader)
        except (OSError, yaml.YAMLError) as e:
            print(f"iam-lint: cannot read {path}: {e}", file=sys.stderr)
            return 2
        resources = doc.get("Resources") or {}
        for logical, label, kind, document in policies(doc):
            count += 1
            resolved = resolve(document, resources)
            if kind == "trust":
                # A trust policy is a resource policy on the role: parliament reads identity
                # policies, so it gets the statements with the role itself as the resource
                # (sts:AssumeRole acts on a role) and without the principal.
                for st in resolved.get("Statement", []):
                    st.pop("Principal", None)
                    st["Resource"] = get_att(logical, "Arn", resources)
            elif kind == "resource":
                for st in resolved.get("Statement", []):
                    st.pop("Principal", None)
            analyzed = analyze_policy_string(json.dumps(resolved), include_community_auditors=False)
            for finding in analyzed.findings:
                findings += 1
                print(json.dumps({
                    "template": path,
                    "resource": logical,
                    "policy": label,
                    "issue": finding.issue,
                    "detail": str(finding.detail),
                }, sort_keys=True))
    print(f"iam-lint: {count} policies, {findings} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
