#!/usr/bin/env python3
"""moto_server (the local AWS emulator) with two documented behaviours it lacks.

CloudFormation's `DeletionPolicy: RetainExceptOnCreate` "behaves like Retain for stack
operations, except for the stack operation that initially created the resource" (AWS
CloudFormation user guide, DeletionPolicy attribute). moto 5.2.5 keeps only resources whose
policy is the literal `Retain` and deletes the rest with the stack. moto never rolls a create
back, so on every deletion it can see, RetainExceptOnCreate means Retain.

SageMaker `CreateTrainingJob` with the name of an existing job fails: "The training job name
must be unique within an Amazon Web Services Region in an Amazon Web Services account" (SageMaker
API Reference, CreateTrainingJob, TrainingJobName), with `ResourceInUse` ("Training job names must
be unique within an AWS account and region, and a training job with this name already exists
(ARN)"). moto 5.2.5 silently replaces the job, which hides a create retried after its reply was
lost (the fault-injection tests) and a name used twice.

Otherwise this runs moto_server unchanged, with the same arguments (-H HOST -p PORT).
"""

import sys

from moto.cloudformation import parsing
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

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
