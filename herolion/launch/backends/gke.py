"""``--cluster gke``: a JobSet (jobset.x-k8s.io, >= v0.6) with one pod per host.

* one replicated Job, ``completionMode: Indexed``, ``parallelism = completions = nodes``;
  JobSet's headless service gives pod ``I`` the DNS name ``NAME-workers-0-I.NAME``, so the
  coordinator is pod 0 at ``NAME-workers-0-0.NAME:PORT``;
* each pod's process id is its completion index, read with the downward API into
  ``HEROLION_PROCESS_ID`` (jax's Kubernetes detection needs the ``kubernetes`` package and
  RBAC; our own variables need neither);
* preemption is restartable: exit 75 or a ``DisruptionTarget`` pod condition fails the Job
  with reason ``PodFailurePolicy``, and the JobSet failure policy restarts the whole set
  (all processes must restart together), at most ``--max-restarts`` times; any other
  failure exhausts ``backoffLimit: 0`` (``BackoffLimitExceeded``) and fails the JobSet.

The command is an argv list in the manifest — no shell — and the manifest is written with
``yaml.safe_dump``, so user values arrive unchanged.
"""
from __future__ import annotations

import subprocess

from herolion.checkpoints import PREEMPTED_EXIT_CODE
from herolion.launch import distributed
from herolion.launch.backends.job import Job, require, tool, train_argv

CONTAINER = "trainer"
REPLICATED_JOB = "workers"


def coordinator(job: Job) -> str:
    return f"{job.name}-{REPLICATED_JOB}-0-0.{job.name}:{job.port}"


def manifest(job: Job) -> dict:
    """The JobSet as a plain dict (tests check its fields; :func:`render` dumps it)."""
    image = require(job.image, "--image", "gke")
    index = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    env = [
        {"name": distributed.ENV_COORDINATOR, "value": coordinator(job)},
        {"name": distributed.ENV_NUM_PROCESSES, "value": str(job.nodes)},
        {"name": distributed.ENV_PROCESS_ID, "valueFrom": {"fieldRef": {"fieldPath": index}}},
        {"name": distributed.ENV_HEARTBEAT, "value": str(job.heartbeat_timeout)},
    ]
    container = {"name": CONTAINER, "image": image, "command": train_argv(job),
                 "env": env, "ports": [{"containerPort": job.port}]}
    if job.gpus_per_node:
        container["resources"] = {"limits": {"nvidia.com/gpu": job.gpus_per_node}}
    pod_failure_policy = {"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": CONTAINER, "operator": "In",
                                              "values": [PREEMPTED_EXIT_CODE]}},
        {"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget"}]},
    ]}
    job_spec = {"parallelism": job.nodes, "completions": job.nodes,
                "completionMode": "Indexed", "backoffLimit": 0,
                "podFailurePolicy": pod_failure_policy,
                "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": {"name": job.name, "labels": {"app.kubernetes.io/name": "herolion"}},
        "spec": {
            "network": {"enableDNSHostnames": True},
            "failurePolicy": {"maxRestarts": job.max_restarts, "rules": [
                {"name": "preempted", "action": "RestartJobSet",
                 "onJobFailureReasons": ["PodFailurePolicy"]},
                {"name": "crashed", "action": "FailJobSet",
                 "onJobFailureReasons": ["BackoffLimitExceeded"]},
            ]},
            "replicatedJobs": [{"name": REPLICATED_JOB, "replicas": 1,
                                "template": {"spec": job_spec}}],
        },
    }


def render(job: Job) -> str:
    import yaml
    return yaml.safe_dump(manifest(job), sort_keys=False)


def submit(job: Job) -> int:
    text = render(job)
    if job.dry_run:
        print(text, end="")
        return 0
    kubectl = tool("kubectl", "gke")
    return subprocess.run([kubectl, "apply", "-f", "-"], input=text, text=True).returncode
