#!/usr/bin/env python3
"""Validates every request the integration tests sent against the service models botocore ships.

The integration tests write each request they send to the emulator to a wire log (NDJSON, one
file per test process, see tests/integration/support/wire_log.rs). This script maps each
request to its service (the SigV4 credential scope) and operation (X-Amz-Target for the JSON
protocol, Action= for the query and EC2 protocols, method and URI template for REST) and checks
its members against the operation's input shape: required members, enum values, patterns,
string and blob lengths, list and map sizes, numeric ranges, types and unknown members. S3 is
checked on its URI labels, query string and headers only, never its bodies.

    wire-check.py [--models DIR] LOG_DIR   check every *.ndjson file in LOG_DIR
    wire-check.py [--models DIR] --self-test   prove each rule reports what it should

The models come from the botocore installed into DIR with `pip install --target` (default
$STACKCTL_VENV/wire-models, or .venv/wire-models): a newer botocore than the one other tools
pin, so that members the Rust SDK already sends are not reported as unknown.

Exit status: 0 no violation, 1 violations (or nothing recorded), 2 usage or setup errors.
"""

import argparse
import base64
import binascii
import json
import os
import re
import sys
import urllib.parse
from collections import OrderedDict

# Signing names (credential scope) that differ from botocore's service names.
SIGNING_TO_SERVICE = {
    "elasticfilesystem": "efs",
    "servicequotas": "service-quotas",
}

# Query parameters the SDKs add to REST requests that botocore's models do not list: Smithy
# models put `x-id=<Operation>` in S3's URI templates to tell operations on the same path apart.
SDK_QUERY_PARAMS = {"s3": {"x-id"}}

# Longest value shown in a message.
SHOWN = 80

MISSING = object()  # a member that is not in the request
INVALID = object()  # a value already reported as the wrong type


class Violation(Exception):
    """A request that cannot be checked at all (no service, no operation)."""


class Report:
    """Violations, grouped so that one defect sent by many tests is printed once."""

    def __init__(self):
        self.groups = OrderedDict()
        self.requests = 0
        self.operations = set()
        self.total = 0

    def add(self, service, operation, path, rule, detail, test):
        key = (service, operation, path, rule, detail)
        self.total += 1
        group = self.groups.setdefault(key, [])
        if test not in group:
            group.append(test)

    def print(self, out):
        for (service, operation, path, rule, detail), tests in self.groups.items():
            where = f"{service} {operation}" + (f" {path}" if path else "")
            shown = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
            print(f"wire-check: {where}: {rule}: {detail} (test {shown})", file=out)


def show(value, shape):
    """A value for a message: never a sensitive one, never a long one."""
    if shape is not None and shape.metadata.get("sensitive"):
        return "(sensitive value)"
    text = json.dumps(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + '..."'


def join(path, name):
    return f"{path}.{name}" if path else name


def fail(message):
    """A setup or usage error: exit 2, before any check."""
    print(f"wire-check: {message}", file=sys.stderr)
    sys.exit(2)


class Models:
    """botocore's service models, loaded on demand from one botocore and nothing else."""

    def __init__(self, botocore_dir):
        if not os.path.isdir(os.path.join(botocore_dir, "botocore")):
            fail(f"no botocore in {botocore_dir}; run scripts/install-dev-tools.sh (it installs the pinned botocore there)")
        sys.path.insert(0, botocore_dir)
        import botocore
        import botocore.exceptions
        import botocore.loaders
        import botocore.model

        if not os.path.abspath(botocore.__file__).startswith(botocore_dir):
            fail(f"botocore was imported from {botocore.__file__}, not from {botocore_dir}")
        try:
            import regex  # noqa: F401  (the \p{...} classes in AWS patterns need it)
        except ImportError:
            fail("the `regex` module is missing (cfn-lint brings it); run scripts/install-dev-tools.sh")
        self.version = botocore.__version__
        # Only the pinned models: not ~/.aws/models, not AWS_DATA_PATH.
        data = os.path.join(os.path.dirname(botocore.__file__), "data")
        self.loader = botocore.loaders.Loader(
            extra_search_paths=[data], include_default_search_paths=False, include_default_extras=False
        )
        self.unknown = botocore.exceptions.UnknownServiceError
        self.model = botocore.model
        self.cache = {}
        self.by_signing_name = None

    def service(self, signing_name):
        name = SIGNING_TO_SERVICE.get(signing_name, signing_name)
        if name not in self.cache:
            try:
                data = self.loader.load_service_model(name, "service-2")
            except self.unknown:
                data = self.find(signing_name)
            self.cache[name] = self.model.ServiceModel(data, name)
        return self.cache[name]

    def find(self, signing_name):
        """The model whose signing name is `signing_name` (slow: reads every model, once)."""
        if self.by_signing_name is None:
            self.by_signing_name = {}
            for name in self.loader.list_available_services("service-2"):
                meta = self.loader.load_service_model(name, "service-2")["metadata"]
                for key in (meta.get("signingName"), meta.get("endpointPrefix")):
                    if key:
                        self.by_signing_name.setdefault(key, name)
        if signing_name not in self.by_signing_name:
            raise Violation(f"no botocore model signs as {signing_name!r}")
        return self.loader.load_service_model(self.by_signing_name[signing_name], "service-2")


PATTERNS = {}
SURROGATES = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


def ecma(pattern):
    """An ECMA 262 pattern (Smithy's dialect) in Python's: `$` only at the very end (Python's
    also matches before a final newline), `.` never a line terminator, `\\d` and `\\w` ASCII."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        pair = SURROGATES.match(pattern, i)
        if pair:  # ECMA spells U+10000 and above as UTF-16 surrogate pairs
            high, low = int(pair.group(1), 16), int(pair.group(2), 16)
            out.append("\\U%08X" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)))
            i = pair.end()
            continue
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif nxt == "w":
                out.append("A-Za-z0-9_" if in_class else "[A-Za-z0-9_]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
        elif c == "$":
            out.append(r"\Z")
        elif c == ".":
            out.append(r"[^\n\r\u2028\u2029]")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def pattern_matches(pattern, text):
    """Smithy patterns are ECMA 262 and not implicitly anchored."""
    import regex

    if pattern not in PATTERNS:
        try:
            PATTERNS[pattern] = regex.compile(ecma(pattern))
        except regex.error as err:
            raise Violation(f"the model's pattern {pattern!r} does not compile here: {err}")
    return PATTERNS[pattern].search(text) is not None


class Check:
    """Checks one request; `emit(path, rule, detail)` reports a violation."""

    def __init__(self, emit):
        self.emit = emit

    # ---- constraints on decoded values (the same for every protocol) ----

    def value(self, shape, value, path):
        if value is INVALID or value is None:
            return
        kind = shape.type_name
        if kind == "structure":
            if getattr(shape, "is_document_type", False) or shape.metadata.get("document"):
                return
            if not isinstance(value, dict):
                return self.emit(path, "type", f"expected a structure ({shape.name}), got {show(value, shape)}")
            self.structure(shape, value, path)
        elif kind == "list":
            if not isinstance(value, list):
                return self.emit(path, "type", f"expected a list ({shape.name}), got {show(value, shape)}")
            self.size(shape, len(value), path, "list size")
            for i, item in enumerate(value):
                self.value(shape.member, item, f"{path}[{i}]")
        elif kind == "map":
            if not isinstance(value, dict):
                return self.emit(path, "type", f"expected a map ({shape.name}), got {show(value, shape)}")
            self.size(shape, len(value), path, "map size")
            for key, item in value.items():
                self.value(shape.key, key, f"{path}{{key {json.dumps(key)}}}")
                self.value(shape.value, item, f"{path}[{json.dumps(key)}]")
        elif kind == "string":
            if not isinstance(value, str):
                return self.emit(path, "type", f"expected a string ({shape.name}), got {show(value, shape)}")
            enum = shape.metadata.get("enum") or []
            if enum and value not in enum:
                self.emit(path, "enum", f"{show(value, shape)} is not one of {', '.join(enum)} ({shape.name})")
            self.size(shape, len(value), path, "length", value)
            pattern = shape.metadata.get("pattern")
            if pattern is not None and not pattern_matches(pattern, value):
                self.emit(path, "pattern", f"{show(value, shape)} does not match {pattern} ({shape.name})")
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                return self.emit(path, "type", f"expected an {kind} ({shape.name}), got {show(value, shape)}")
            self.range(shape, value, path)
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                if value not in ("NaN", "Infinity", "-Infinity"):
                    return self.emit(path, "type", f"expected a {kind} ({shape.name}), got {show(value, shape)}")
                return
            self.range(shape, value, path)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.emit(path, "type", f"expected a boolean, got {show(value, shape)}")
        elif kind == "blob":
            if not isinstance(value, str):
                return self.emit(path, "type", f"expected a base64 blob ({shape.name}), got {show(value, shape)}")
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return self.emit(path, "type", f"not base64 ({shape.name})")
            self.size(shape, len(raw), path, "length")
        elif kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                self.emit(path, "type", f"expected a timestamp, got {show(value, shape)}")

    def structure(self, shape, value, path, not_sent=()):
        """Required members and members' values; unknown members are the decoders' business."""
        for name in shape.required_members:
            if name not in value and name not in not_sent:
                self.emit(join(path, name), "required", f"missing required member of {shape.name}")
        if shape.metadata.get("union") and len(value) != 1:
            self.emit(path, "union", f"{shape.name} is a union: exactly one member, got {len(value)}")
        for name, item in value.items():
            self.value(shape.members[name], item, join(path, name))

    def size(self, shape, n, path, what, value=None):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        shown = f" of {show(value, shape)}" if value is not None else ""
        if low is not None and n < low:
            self.emit(path, f"min {what}", f"{what}{shown} is {n}, at least {low} allowed ({shape.name})")
        if high is not None and n > high:
            self.emit(path, f"max {what}", f"{what}{shown} is {n}, at most {high} allowed ({shape.name})")

    def range(self, shape, n, path):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and n < low:
            self.emit(path, "range", f"{n} is below the minimum {low} ({shape.name})")
        if high is not None and n > high:
            self.emit(path, "range", f"{n} is above the maximum {high} ({shape.name})")

    # ---- JSON bodies (json and rest-json protocols) ----

    def json(self, shape, value, path):
        """Maps serialized names to member names, reporting names the model does not have."""
        if shape.type_name == "structure" and isinstance(value, dict) and not shape.metadata.get("document"):
            names = {m.serialization.get("name", n): n for n, m in shape.members.items()}
            out = {}
            for key, item in value.items():
                if key not in names:
                    self.emit(join(path, key), "unknown member", f"{shape.name} has no member {key}")
                elif item is not None:
                    out[names[key]] = self.json(shape.members[names[key]], item, join(path, names[key]))
            return out
        if shape.type_name == "list" and isinstance(value, list):
            return [self.json(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
        if shape.type_name == "map" and isinstance(value, dict):
            return {k: self.json(shape.value, v, f"{path}[{json.dumps(k)}]") for k, v in value.items()}
        return value

    # ---- form bodies (query and ec2 protocols) ----

    def form(self, shape, params, prefix, used, path, ec2):
        kind = shape.type_name
        if kind == "structure":
            if prefix and not any(k == prefix or k.startswith(prefix + ".") for k in params):
                return MISSING
            out = {}
            for name, member in shape.members.items():
                key = form_name(member, name, ec2)
                item = self.form(member, params, join(prefix, key), used, join(path, name), ec2)
                if item is not MISSING:
                    out[name] = item
            return out
        if kind == "list":
            if not ec2 and params.get(prefix) == "":
                used.add(prefix)  # the query protocol's empty list: `Name=`
                return []
            if ec2:
                base = prefix
            elif shape.serialization.get("flattened"):
                base = prefix
                if shape.member.serialization.get("name"):
                    base = ".".join(prefix.split(".")[:-1] + [shape.member.serialization["name"]])
            else:
                base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
            indices = form_indices(params, base)
            if not indices:
                return MISSING
            if indices != list(range(1, len(indices) + 1)):
                self.emit(path, "list index", f"{base}.N numbered {indices}, not 1..{len(indices)}")
            return [self.form(shape.member, params, f"{base}.{i}", used, f"{path}[{n}]", ec2) for n, i in enumerate(indices)]
        if kind == "map":
            base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            indices = form_indices(params, base)
            if not indices:
                return MISSING
            out = {}
            for i in indices:
                key = self.form(shape.key, params, f"{base}.{i}.{key_name}", used, f"{path}{{key {i}}}", ec2)
                item = self.form(shape.value, params, f"{base}.{i}.{value_name}", used, f"{path}[{i}]", ec2)
                if key is MISSING:
                    self.emit(f"{path}{{key {i}}}", "required", "map entry without a key")
                    continue
                out[key if isinstance(key, str) else str(key)] = item
            return out
        if prefix not in params:
            return MISSING
        used.add(prefix)
        return self.scalar(shape, params[prefix], path)

    def scalar(self, shape, text, path):
        """A scalar sent as text (form bodies, URI labels, query strings, headers)."""
        kind = shape.type_name
        try:
            if kind in ("integer", "long"):
                return int(text)
            if kind in ("float", "double"):
                return text if text in ("NaN", "Infinity", "-Infinity") else float(text)
        except ValueError:
            self.emit(path, "type", f"expected an {kind}, got {show(text, shape)}")
            return INVALID
        if kind == "boolean":
            if text not in ("true", "false"):
                self.emit(path, "type", f"expected true or false, got {show(text, shape)}")
                return INVALID
            return text == "true"
        if kind == "list":
            return [self.scalar(shape.member, part.strip(), f"{path}[{i}]") for i, part in enumerate(text.split(","))]
        return text


def form_name(member, default, ec2):
    """The name botocore's Query/EC2 serializers give a member (serialize.py)."""
    if not ec2:
        return member.serialization.get("name", default)
    if "queryName" in member.serialization:
        return member.serialization["queryName"]
    if "name" in member.serialization:
        name = member.serialization["name"]
        return name[0].upper() + name[1:]
    return default


def form_indices(params, base):
    found = set()
    pattern = re.compile(re.escape(base) + r"\.(\d+)(?:\.|$)")
    for key in params:
        match = pattern.match(key)
        if match:
            found.add(int(match.group(1)))
    return sorted(found)


# ---- one request ----


def check_request(models, record, report):
    test = record.get("test", "?")
    headers = {k.lower(): v for k, v in record.get("headers", {}).items()}
    target = record.get("target", "/")
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    scope = record.get("scope") or presigned_scope(query)
    signing = (scope or {}).get("service")
    report.requests += 1
    if not signing:
        report.add("?", "?", "", "signature", f"{record.get('method')} {target[:SHOWN]}: no SigV4 credential scope, so no service", test)
        return
    try:
        service = models.service(signing)
    except Violation as err:
        report.add(signing, "?", "", "service", str(err), test)
        return
    meta = service.metadata
    label = meta.get("serviceId", signing)
    state = {"op": "?"}

    def emit(path, rule, detail):
        report.add(label, state["op"], path, rule, detail, test)

    check = Check(emit)
    try:
        if "x-amz-target" in headers:
            check_json(service, headers, record, check, state)
        elif headers.get("smithy-protocol"):
            raise Violation(f"protocol {headers['smithy-protocol']} is not decoded by this check")
        elif meta["protocol"] in ("query", "ec2"):
            check_form(service, record, check, state)
        elif meta["protocol"] in ("rest-json", "rest-xml"):
            check_rest(service, record, url, query, headers, check, state)
        else:
            raise Violation(f"protocol {meta['protocol']} is not decoded by this check")
    except Violation as err:
        emit("", "request", str(err))
    report.operations.add((label, state["op"]))


def presigned_scope(query):
    for key, value in query:
        if key == "X-Amz-Credential":
            parts = value.split("/")
            if len(parts) == 5:
                return {"region": parts[2], "service": parts[3]}
    return None


def operation(service, name):
    if name not in service.operation_names:
        raise Violation(f"{service.metadata.get('serviceId')} has no operation {name}")
    return service.operation_model(name)


def check_json(service, headers, record, check, state):
    prefix, _, name = headers["x-amz-target"].partition(".")
    meta = service.metadata
    if prefix != meta.get("targetPrefix"):
        raise Violation(f"X-Amz-Target prefix {prefix} is not {meta.get('targetPrefix')}")
    state["op"] = name
    op = operation(service, name)
    want = f"application/x-amz-json-{meta.get('jsonVersion', '1.0')}"
    if headers.get("content-type", "").split(";")[0].strip() != want:
        check.emit("", "content-type", f"{headers.get('content-type')!r}, the model's protocol is {want}")
    body = parse_json(record.get("body") or "{}")
    shape = op.input_shape
    if shape is None:
        if body:
            check.emit("", "unknown member", f"{name} takes no input, got {sorted(body)}")
        return
    check.value(shape, check.json(shape, body, ""), "")


def parse_json(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise Violation(f"the body is not JSON: {err}")


def check_form(service, record, check, state):
    pairs = urllib.parse.parse_qsl(record.get("body") or "", keep_blank_values=True)
    params = OrderedDict(pairs)
    if "Action" not in params:
        raise Violation("a form body without Action=")
    state["op"] = params["Action"]
    if len(params) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                check.emit(key, "duplicate", f"{key} sent twice")
            seen.add(key)
    op = operation(service, params["Action"])
    version = service.metadata["apiVersion"]
    if params.get("Version") != version:
        check.emit("Version", "version", f"{params.get('Version')!r}, the model's API version is {version}")
    used = {"Action", "Version"}
    shape = op.input_shape
    if shape is not None:
        ec2 = service.metadata["protocol"] == "ec2"
        value = check.form(shape, params, "", used, "", ec2)
        check.value(shape, value, "")
    for key in params:
        if key not in used:
            check.emit(key, "unknown member", f"{params['Action']} has no member serialized as {key}")


def uri_template(request_uri):
    """A requestUri's path as a regex with one group per label, and its literal query."""
    path, _, literal = request_uri.partition("?")
    labels, parts, pos = [], [], 0
    for match in re.finditer(r"\{([^}]+?)(\+?)\}", path):
        parts.append(re.escape(path[pos : match.start()]))
        parts.append("(.+)" if match.group(2) else "([^/]+)")
        labels.append(match.group(1))
        pos = match.end()
    parts.append(re.escape(path[pos:]))
    # Path-style S3 keeps a slash after the bucket (`/bucket/?list-type=2`).
    regex = "^" + "".join(parts).rstrip("/") + "/?$"
    fixed = len(re.sub(r"\{[^}]+\}", "", path))
    return re.compile(regex), labels, urllib.parse.parse_qsl(literal, keep_blank_values=True), fixed


def route(service, method, path, query):
    """The operation a REST request is, by method, path and literal query (most specific wins)."""
    names = {k for k, _ in query}
    hint = dict(query).get("x-id")
    best = None
    for name in service.operation_names:
        op = service.operation_model(name)
        if op.http.get("method") != method:
            continue
        regex, labels, literal, fixed = uri_template(op.http.get("requestUri", "/"))
        match = regex.match(path)
        if not match or any(k not in names or (v and dict(query).get(k) != v) for k, v in literal):
            continue
        score = (hint == name, len(literal), fixed)
        if best is None or score > best[0]:
            best = (score, op, dict(zip(labels, match.groups())), literal)
    if best is None:
        raise Violation(f"no {service.metadata.get('serviceId')} operation is {method} {path}")
    return best[1], best[2], {k for k, _ in best[3]}


def check_rest(service, record, url, query, headers, check, state):
    method = record.get("method", "GET")
    op, labels, literal = route(service, method, url.path, query)
    state["op"] = op.name
    shape = op.input_shape
    if shape is None:
        return
    protocol = service.metadata["protocol"]
    skip = SDK_QUERY_PARAMS.get(service.service_name, set()) | literal
    value, not_sent, by_query, query_maps = {}, set(), {}, []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            label = labels.get(wire)
            if label is not None:
                value[name] = check.scalar(member, urllib.parse.unquote(label), name)
        elif location == "querystring":
            if member.type_name == "map":
                query_maps.append(name)
            else:
                by_query[wire] = (name, member)
        elif location == "header":
            if wire.lower() in headers:
                value[name] = check.scalar(member, headers[wire.lower()], name)
        elif location == "headers":
            prefix = wire.lower()
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                value[name] = found
        elif location is None and protocol == "rest-xml":
            not_sent.add(name)  # S3 bodies are not checked
    sent = OrderedDict()
    for key, text in query:
        sent.setdefault(key, []).append(text)
    for key, texts in sent.items():
        if key in by_query:
            name, member = by_query[key]
            if member.type_name == "list":
                value[name] = [check.scalar(member.member, t, f"{name}[{i}]") for i, t in enumerate(texts)]
            else:
                if len(texts) > 1:
                    check.emit(key, "duplicate", f"{key} sent {len(texts)} times")
                value[name] = check.scalar(member, texts[-1], name)
        elif key not in skip and not query_maps:
            check.emit(key, "unknown member", f"{op.name} has no query parameter {key}")
    if protocol == "rest-json":
        body_members = {n: m for n, m in shape.members.items() if m.serialization.get("location") is None}
        payload = shape.serialization.get("payload")
        text = record.get("body") or ""
        if payload:
            if shape.members[payload].type_name == "structure" and text:
                value[payload] = check.json(shape.members[payload], parse_json(text), payload)
        elif body_members:
            body = parse_json(text) if text.strip() else {}
            names = {m.serialization.get("name", n): n for n, m in body_members.items()}
            for key, item in body.items():
                if key not in names:
                    check.emit(key, "unknown member", f"{op.name} has no body member {key}")
                elif item is not None:
                    value[names[key]] = check.json(body_members[names[key]], item, names[key])
        elif text.strip() not in ("", "{}"):
            check.emit("", "unknown member", f"{op.name} takes no body, got {show(text, None)}")
    check.structure(shape, value, "", not_sent)


# ---- the self-test: each rule must report, and well-formed requests must not ----


def record(service, target, body="", method="POST", headers=None, test="self-test"):
    """A wire-log line as tests/integration/support/wire_log.rs writes it."""
    return {
        "test": test,
        "method": method,
        "target": target,
        "headers": headers or {},
        "scope": {"region": "us-east-1", "service": service} if service else None,
        "body": body,
    }


def json_record(service, target, body, version="1.1"):
    headers = {"x-amz-target": target, "content-type": f"application/x-amz-json-{version}"}
    return record(service, "/", json.dumps(body), headers=headers)


def form_record(service, body):
    return record(service, "/", body, headers={"content-type": "application/x-www-form-urlencoded"})


FS = "fs-0123456789abcdef0"
ROLE = "arn:aws:iam::123456789012:role/mask-rcnn-ExecutionRole"
IMPORT = "IMPORT_METADATA_FROM_REPOSITORY"
FSX = "AWSSimbaAPIService_v20180301.CreateDataRepositoryTask"
TRAINING = {
    "TrainingJobName": "mask-rcnn-tp-20261201",
    "RoleArn": ROLE,
    "AlgorithmSpecification": {"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/tp:latest", "TrainingInputMode": "File"},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/mask-rcnn/output/"},
    "ResourceConfig": {"InstanceType": "ml.p3.16xlarge", "InstanceCount": 2, "VolumeSizeInGB": 100},
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "HyperParameters": {"mode_fpn": "True"},
}

# (what it shows, the request, the (operation, member path, rule) each must report, exactly)
CASES = [
    ("well-formed FSx import task (json)",
     json_record("fsx", FSX, {"Type": IMPORT, "FileSystemId": FS, "Paths": ["s3://coco/mask-rcnn/"], "Report": {"Enabled": False}}),
     set()),
    ("FSx import task: bad enum, pattern and length, a newline in a path, no Report, unknown member, range, list size",
     json_record("fsx", FSX, {"Type": "IMPORT", "FileSystemId": "fs-xyz", "Paths": ["mask-rcnn/\n"], "Path": "x",
                              "CapacityToRelease": 0, "Tags": []}),
     {("CreateDataRepositoryTask", "Type", "enum"), ("CreateDataRepositoryTask", "FileSystemId", "pattern"),
      ("CreateDataRepositoryTask", "FileSystemId", "min length"), ("CreateDataRepositoryTask", "Paths[0]", "pattern"),
      ("CreateDataRepositoryTask", "Report", "required"), ("CreateDataRepositoryTask", "Path", "unknown member"),
      ("CreateDataRepositoryTask", "CapacityToRelease", "range"), ("CreateDataRepositoryTask", "Tags", "min list size")}),
    ("well-formed training job (json)", json_record("sagemaker", "SageMaker.CreateTrainingJob", TRAINING), set()),
    ("training job: too long a name, nested enum, a string for a number, a nested unknown member, too many hyperparameters",
     json_record("sagemaker", "SageMaker.CreateTrainingJob", dict(
         TRAINING, TrainingJobName="j" * 64,
         ResourceConfig={"InstanceType": "p3.16xlarge", "InstanceCount": "2", "Spot": True},
         HyperParameters={f"k{i}": "v" for i in range(101)})),
     {("CreateTrainingJob", "TrainingJobName", "max length"), ("CreateTrainingJob", "ResourceConfig.InstanceType", "enum"),
      ("CreateTrainingJob", "ResourceConfig.InstanceCount", "type"), ("CreateTrainingJob", "ResourceConfig.Spot", "unknown member"),
      ("CreateTrainingJob", "HyperParameters", "max map size")}),
    ("JSON: an operation the model lacks, a wrong target prefix, the wrong content type",
     [json_record("logs", "Logs_20140328.PutLogEvent", {}), json_record("logs", "Logs.PutLogEvents", {}),
      json_record("logs", "Logs_20140328.CreateLogGroup", {"logGroupName": "/aws/sagemaker/TrainingJobs"}, version="1.0")],
     {("PutLogEvent", "", "request"), ("?", "", "request"), ("CreateLogGroup", "", "content-type")}),
    ("well-formed CreateStack (query)",
     form_record("cloudformation", "Action=CreateStack&Version=2010-05-15&StackName=mask-rcnn&TemplateBody=%7B%7D"
                 "&Capabilities.member.1=CAPABILITY_NAMED_IAM&Tags.member.1.Key=stackctl&Tags.member.1.Value=mask-rcnn"),
     set()),
    ("CreateStack: no StackName, bad enum, empty tag key, unknown member, a gap in a list, a wrong API version",
     form_record("cloudformation", "Action=CreateStack&Version=2011-01-01&TemplateBody=%7B%7D&Capabilities.member.1=CAPABILITY_ALL"
                 "&Tags.member.1.Key=&Tags.member.1.Value=v&Parameters.member.2.ParameterKey=A&Foo=1"),
     {("CreateStack", "StackName", "required"), ("CreateStack", "Capabilities[0]", "enum"), ("CreateStack", "Tags[0].Key", "min length"),
      ("CreateStack", "Foo", "unknown member"), ("CreateStack", "Parameters", "list index"), ("CreateStack", "Version", "version")}),
    ("well-formed DescribeSubnets (ec2)",
     form_record("ec2", "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-0123&MaxResults=5&DryRun=false"),
     set()),
    ("DescribeSubnets: a range, an unknown filter member, a non-boolean, a query-protocol list (member.N) on EC2",
     form_record("ec2", "Action=DescribeSubnets&Version=2016-11-15&MaxResults=2&Filter.1.Bogus=x&DryRun=yes&SubnetId.member.1=subnet-1"),
     {("DescribeSubnets", "MaxResults", "range"), ("DescribeSubnets", "Filter.1.Bogus", "unknown member"),
      ("DescribeSubnets", "DryRun", "type"), ("DescribeSubnets", "SubnetId.member.1", "unknown member")}),
    ("well-formed EFS reads (rest-json)",
     [record("elasticfilesystem", f"/2015-02-01/mount-targets?FileSystemId={FS}", method="GET"),
      record("elasticfilesystem", "/2015-02-01/mount-targets/fsmt-0123abcd", method="DELETE")],
     set()),
    ("EFS: a range and an unknown query parameter, a URI label against its pattern, a path no operation has",
     [record("elasticfilesystem", "/2015-02-01/mount-targets?MaxItems=0&Zap=1", method="GET"),
      record("elasticfilesystem", "/2015-02-01/mount-targets/mt-1", method="DELETE"),
      record("elasticfilesystem", "/2015-02-01/nothing", method="GET")],
     {("DescribeMountTargets", "MaxItems", "range"), ("DescribeMountTargets", "Zap", "unknown member"),
      ("DeleteMountTarget", "MountTargetId", "pattern"), ("DeleteMountTarget", "MountTargetId", "min length"), ("?", "", "request")}),
    ("well-formed S3 requests (rest-xml: URI, query and headers only)",
     [record("s3", "/coco/?list-type=2&prefix=mask-rcnn%2F", method="GET"),
      record("s3", "/coco/mask-rcnn/a.jpg?x-id=PutObject", "(not recorded)", "PUT", {"content-type": "image/jpeg"}),
      record("s3", "/coco/mask-rcnn/big?partNumber=2&uploadId=abc&x-id=UploadPart", method="PUT")],
     set()),
    ("S3: bad enum, unknown parameter, a non-integer, a missing required query member",
     [record("s3", "/coco/?list-type=2&encoding-type=utf8&bogus=1&max-keys=abc", method="GET"),
      record("s3", "/coco/big?partNumber=2&x-id=UploadPart", method="PUT")],
     {("ListObjectsV2", "EncodingType", "enum"), ("ListObjectsV2", "bogus", "unknown member"),
      ("ListObjectsV2", "MaxKeys", "type"), ("UploadPart", "UploadId", "required")}),
    ("a request with no SigV4 scope", record(None, "/", "Action=DescribeVpcs"), {("?", "", "signature")}),
]


def self_test(models):
    failures = 0
    for title, requests, expected in CASES:
        requests = requests if isinstance(requests, list) else [requests]
        report = Report()
        for request in requests:
            check_request(models, request, report)
        got = {(op, path, rule) for (_, op, path, rule, _) in report.groups}
        if got == expected:
            print(f"wire-check self-test: ok: {title}")
            continue
        failures += 1
        print(f"wire-check self-test: FAILED: {title}")
        for item in sorted(expected - got):
            print(f"  not reported: {item}")
        for item in sorted(got - expected):
            print(f"  reported but not expected: {item}")
        report.print(sys.stdout)
    print(f"wire-check self-test: {len(CASES)} cases, {failures} failed; botocore {models.version} models")
    return 1 if failures else 0


# ---- the log ----


def read_log(directory):
    files = sorted(f for f in os.listdir(directory) if f.endswith(".ndjson"))
    for name in files:
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as err:
                        fail(f"{os.path.join(directory, name)}:{number}: not a wire-log line: {err}")


def run(models, records, out):
    report = Report()
    for record in records:
        check_request(models, record, report)
    report.print(out)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log_dir", nargs="?", help="the wire log directory (STACKCTL_WIRE_LOG)")
    parser.add_argument("--models", help="a `pip install --target` directory holding botocore")
    parser.add_argument("--self-test", action="store_true", help="check the checker on known-bad requests")
    args = parser.parse_args()
    venv = os.environ.get("STACKCTL_VENV") or os.path.join(os.path.dirname(__file__), "..", ".venv")
    models = Models(os.path.abspath(args.models or os.path.join(venv, "wire-models")))
    if args.self_test:
        return self_test(models)
    if not args.log_dir:
        parser.error("give the wire log directory, or --self-test")
    if not os.path.isdir(args.log_dir):
        fail(f"{args.log_dir} is not a directory (no wire log was written)")
    report = run(models, read_log(args.log_dir), sys.stdout)
    print(
        f"wire-check: {report.requests} requests, {len(report.operations)} operations, "
        f"{report.total} violations ({len(report.groups)} distinct); botocore {models.version} models"
    )
    if report.requests == 0:
        print(f"wire-check: nothing recorded in {args.log_dir}: the tests' recording is broken", file=sys.stderr)
        return 1
    return 1 if report.total else 0


if __name__ == "__main__":
    sys.exit(main())
