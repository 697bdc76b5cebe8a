#!/usr/bin/env python3
"""moto_server (the local AWS emulator) with documented behaviours it lacks.

1. `DeletionPolicy: RetainExceptOnCreate` "behaves like Retain for stack operations, except for
   the stack operation that initially created the resource" (AWS CloudFormation user guide,
   DeletionPolicy attribute). moto 5.2.5 keeps only resources whose policy is the literal
   `Retain`. moto never rolls a create back, so on every deletion it can see,
   RetainExceptOnCreate means Retain.
2. A stack whose deletion fails stays, in DELETE_FAILED ("If the stack deletion fails, the stack
   will be in the DELETE_FAILED state", user guide, deleting a stack; DeleteStack itself returns
   at once). moto raises from DeleteStack and forgets the stack, so nothing could find and
   finish it again.
3. A resource that is already gone when CloudFormation deletes it counts as deleted (the
   resource handler contract: a delete handler answers NotFound, which CloudFormation treats as
   success). moto fails the deletion on it.
4. The resources of a stack stay listed after its deletion (ListStackResources works on a
   deleted stack's id). moto forgets each resource it deleted and re-creates a forgotten one
   the next time the stack's resources are listed.
5. SageMaker `CreateTrainingJob` with the name of an existing job fails: "The training job name
   must be unique within an Amazon Web Services Region in an Amazon Web Services account" (SageMaker
   API Reference, CreateTrainingJob, TrainingJobName), with `ResourceInUse` ("Training job names must
   be unique within an AWS account and region, and a training job with this name already exists
   (ARN)"). moto 5.2.5 silently replaces the job, which hides a create retried after its reply was
   lost (the fault-injection tests) and a name used twice.
6. EC2 `DeleteVpcEndpoints` of a gateway endpoint that is already deleted changes nothing and
   fails nothing: "When you delete a gateway endpoint, we delete the endpoint routes in the
   route tables for the endpoint", and endpoints that cannot be deleted come back one by one in
   `unsuccessful` (EC2 API Reference, DeleteVpcEndpoints). moto deletes the routes of a deleted
   endpoint again and fails the whole call with InvalidRoute.NotFound, so a delete retried
   after its reply was lost failed `down`.

Otherwise it runs moto_server unchanged, with the same arguments (-H HOST -p PORT).
"""

import sys

from moto.cloudformation import models, parsing
from moto.ec2.models import vpcs as ec2_vpcs
from moto.sagemaker import models as sagemaker_models
from moto.sagemaker.exceptions import ResourceInUseException
from moto.server import main

_delete = parsing.ResourceMap.delete


def _delete_keeping_retain_except_on_create(self):
    for resource in self._resource_json_map.values():
        if isinstance(resource, dict) and resource.get("DeletionPolicy") == "RetainExceptOnCreate":
            resource["DeletionPolicy"] = "Retain"
    return _delete(self)


parsing.ResourceMap.delete = _delete_keeping_retain_except_on_create

_delete_resource = parsing.ResourceMap._delete_resource


def _code(err):
    """The AWS error code of a moto error (`code` on service errors, `error_type` on REST ones)."""
    return str(getattr(err, "code", None) or getattr(err, "error_type", None) or type(err).__name__)


def _delete_resource_gone_is_deleted(self, parsed_resource, resource_json):
    try:
        _delete_resource(self, parsed_resource, resource_json)
    except Exception as err:
        # moto says "gone" with a *NotFound code, or (IAM, SageMaker) with a message that
        # something "does not exist" or was "not found" (RecordNotFound).
        text = (_code(err) + str(getattr(err, "message", err))).lower().replace(" ", "")
        if "notfound" in text or "doesnotexist" in text:
            return
        raise


parsing.ResourceMap._delete_resource = _delete_resource_gone_is_deleted

_stack_delete = models.Stack.delete


def _stack_delete_failing_like_cloudformation(self):
    # moto forgets each resource it deleted and re-creates a forgotten one when the stack's
    # resources are next listed (even those of a deleted stack); CloudFormation lists them all,
    # deleted ones as such. Keep the records, as CloudFormation does.
    parsed = dict(self.resource_map._parsed_resources)
    try:
        _stack_delete(self)
    except Exception as err:
        code = _code(err)
        message = getattr(err, "message", str(err))
        self.status = "DELETE_FAILED"
        self._add_stack_event(
            "DELETE_FAILED",
            resource_status_reason=f"The following resource(s) failed to delete: {code}: {message}",
        )
        raise
    finally:
        self.resource_map._parsed_resources.clear()
        self.resource_map._parsed_resources.update(parsed)


models.Stack.delete = _stack_delete_failing_like_cloudformation

_backend_delete_stack = models.CloudFormationBackend.delete_stack


def _backend_delete_stack_keeping_failed(self, name_or_stack_id):
    before = dict(self.stacks)
    try:
        _backend_delete_stack(self, name_or_stack_id)
    except Exception:
        restored = False
        for stack_id, stack in before.items():
            if stack_id not in self.stacks and stack.status == "DELETE_FAILED":
                self.stacks[stack_id] = stack
                restored = True
        if not restored:
            raise


models.CloudFormationBackend.delete_stack = _backend_delete_stack_keeping_failed

_create_training_job = sagemaker_models.SageMakerModelBackend.create_training_job


def _create_training_job_once(self, training_job_name, *args, **kwargs):
    existing = self.training_jobs.get(training_job_name)
    if existing is not None:
        raise ResourceInUseException(
            message="Training job names must be unique within an AWS account and region, "
            f"and a training job with this name already exists ({existing.arn})"
        )
    return _create_training_job(self, training_job_name, *args, **kwargs)


sagemaker_models.SageMakerModelBackend.create_training_job = _create_training_job_once

_delete_vpc_endpoints = ec2_vpcs.VPCBackend.delete_vpc_endpoints


def _delete_vpc_endpoints_once(self, vpce_ids=None):
    # A deleted gateway endpoint has no routes left to remove.
    pending = [
        i for i in vpce_ids or [] if getattr(self.vpc_end_points.get(i), "state", None) != "deleted"
    ]
    return _delete_vpc_endpoints(self, pending)


ec2_vpcs.VPCBackend.delete_vpc_endpoints = _delete_vpc_endpoints_once

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
