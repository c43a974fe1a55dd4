"""TensorBoard scalars without TensorFlow.

Why: clu's ``SummaryWriter`` writes through ``tf.summary``, and importing TensorFlow costs
~6 s and ~0.5 GB per training process before the first step (tensorboard's own
``EventFileWriter`` imports TensorFlow too when it is installed, for ``gfile``). The event
file is a TFRecord file of ``Event`` protos, written here with tensorboard's protos and
record framing into a plain local file. A scalar is stored as ``tf.summary.scalar``
stores it: a float32 scalar tensor tagged for the ``scalars`` plugin.
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import numpy as np


class ScalarWriter:
    """Appends scalar summaries to a new ``events.out.tfevents.*`` file in ``logdir``.

    Every ``write_scalars`` is flushed, so TensorBoard shows a live run."""

    def __init__(self, logdir):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter
        self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
        logdir = Path(logdir)
        logdir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}"
        self.path = logdir / name
        self._records = RecordWriter(open(self.path, "wb"))
        self._metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
            data_class=summary_pb2.DATA_CLASS_SCALAR)
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event) -> None:
        self._records.write(event.SerializeToString())
        self._records.flush()

    def write_scalars(self, step: int, scalars: dict) -> None:
        from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2
        values = []
        for tag, value in scalars.items():
            tensor = tensor_pb2.TensorProto(
                dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                tensor_content=np.float32(value).tobytes())
            values.append(self._summary_pb2.Summary.Value(tag=str(tag), tensor=tensor,
                                                          metadata=self._metadata))
        self._write(self._event_pb2.Event(wall_time=time.time(), step=int(step),
                                          summary=self._summary_pb2.Summary(value=values)))

    def flush(self) -> None:
        self._records.flush()

    def close(self) -> None:
        if not self._records.closed:
            self._records.close()
