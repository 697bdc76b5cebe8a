#!/usr/bin/env python3
"""moto_server (the local AWS emulator) with one documented behaviour it lacks.

CloudFormation's `DeletionPolicy: RetainExceptOnCreate` "behaves like Retain for stack
operations, except for the stack operation that initially created the resource" (AWS
CloudFormation user guide, DeletionPolicy attribute). moto 5.2.5 keeps only resources whose
policy is the literal `Retain` and deletes the rest with the stack. moto never rolls a create
back, so on every deletion it can see, RetainExceptOnCreate means Retain: this wrapper says so
and otherwise runs moto_server unchanged, with the same arguments (-H HOST -p PORT).
"""

import sys

from moto.cloudformation import parsing
from moto.server import main

_delete = parsing.ResourceMap.delete


def _delete_keeping_retain_except_on_create(self):
    for resource in self._resource_json_map.values():
        if isinstance(resource, dict) and resource.get("DeletionPolicy") == "RetainExceptOnCreate":
            resource["DeletionPolicy"] = "Retain"
    return _delete(self)


parsing.ResourceMap.delete = _delete_keeping_retain_except_on_create

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
