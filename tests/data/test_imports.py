"""Reading configs and building ops does not pull in TensorFlow; optim/models never see data."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CODE = """
import sys
import herolion.data, herolion.data.pipeline, herolion.data.eval_pipeline, herolion.data.preprocess
import herolion.data.ops, herolion.data.captions, herolion.data.mixup
herolion.data.preprocess.build('decode|inception_crop(8)|flip_lr|value_range(-1, 1)|onehot(10)')
heavy = [m for m in ('tensorflow', 'tensorflow_datasets', 'grain') if m in sys.modules]
assert not heavy, heavy
"""


def test_light_imports():
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_optim_does_not_import_data():
    root = os.path.join(REPO, "herolion")
    for sub in ("optim", "models"):
        for dirpath, _, files in os.walk(os.path.join(root, sub)):
            for f in files:
                if f.endswith(".py"):
                    text = open(os.path.join(dirpath, f)).read()
                    assert "herolion.data" not in text and "from herolion import data" not in text
