"""Cluster backends for `herolion submit`: one module each, all with the same two functions.

``render(job) -> str``   the artefact (sbatch script, JobSet YAML, gcloud command line),
                         a pure function of the :class:`~herolion.launch.backends.job.Job`,
                         so it is unit-tested without the cluster;
``submit(job) -> int``   hands the artefact to the cluster's own tool (``sbatch``,
                         ``kubectl``, ``gcloud``) or, for ``local``, runs the processes.

The cluster is always an existing engine; nothing here schedules anything itself.
"""
import importlib

NAMES = ("local", "slurm", "gke", "tpu")


def get(name):
    return importlib.import_module(f"herolion.launch.backends.{name}")
