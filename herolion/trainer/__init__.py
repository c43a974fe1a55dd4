"""The trainer: mesh + sharding, pure train/eval steps, evaluators, metrics, and a thin loop.

``mesh``, ``sharding``, ``state``, ``step`` and ``evaluate`` import only jax/flax/optax (the
GPU image has no grain/tfds/clu); ``loop`` brings in the data pipelines and writers.
"""
