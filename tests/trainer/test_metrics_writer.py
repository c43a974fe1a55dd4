"""Metrics reach metrics.jsonl and TensorBoard event files that TensorBoard itself reads,
without TensorFlow being imported."""
import json
import subprocess
import sys

from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import summary_pb2
from tensorboard.util import tensor_util

from herolion.trainer.metrics import MetricsWriter


def _read_scalars(logdir):
    """What TensorBoard's scalars plugin gets: ``{tag: [(step, value)]}``."""
    acc = plugin_event_accumulator.EventAccumulator(str(logdir))
    acc.Reload()
    tags = acc.PluginTagToContent("scalars")
    for tag in tags:
        assert acc.SummaryMetadata(tag).data_class == summary_pb2.DATA_CLASS_SCALAR
    return {tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
                  for e in acc.Tensors(tag)] for tag in tags}


def test_scalars_round_trip_through_tensorboard_and_jsonl(tmp_path):
    writer = MetricsWriter(tmp_path)
    writer.write(1, {"loss": 2.5, "lr": 1e-3})
    writer.write(7, {"loss": 0.25, "test/prec@1": 0.875})
    writer.write(8, {})                                   # nothing to write: no row
    writer.close()
    assert _read_scalars(tmp_path) == {"loss": [(1, 2.5), (7, 0.25)],
                                       "lr": [(1, 0.0010000000474974513)],
                                       "test/prec@1": [(7, 0.875)]}
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows == [{"step": 1, "loss": 2.5, "lr": 1e-3},
                    {"step": 7, "loss": 0.25, "test/prec@1": 0.875}]


def test_non_finite_values_are_kept(tmp_path):
    writer = MetricsWriter(tmp_path)
    writer.write(3, {"loss": float("nan")})
    writer.close()
    (step, value), = _read_scalars(tmp_path)["loss"]
    assert step == 3 and value != value                  # NaN in TensorBoard
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {"step": 3, "loss": "nan"}


def test_only_the_primary_process_writes(tmp_path):
    writer = MetricsWriter(tmp_path, primary=False)
    writer.write(1, {"loss": 1.0})
    writer.close()
    assert list(tmp_path.iterdir()) == []


def test_writing_does_not_import_tensorflow(tmp_path):
    code = ("import sys; from herolion.trainer.metrics import MetricsWriter; "
            f"w = MetricsWriter({str(tmp_path)!r}); w.write(1, {{'loss': 1.0}}); w.close(); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
