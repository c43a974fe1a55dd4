"""Checkpoint the iterator after k batches; a fresh process continues the same order."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from herolion.data import pipeline, state

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PP = 'decode|inception_crop(16)|flip_lr|randaugment(1, 5)|value_range(-1, 1)|onehot(10)'


def cfg(data_dir):
    return dict(data=dict(name="digits", split="train"), data_dir=data_dir, batch_size=32,
                pp=PP + '|keep("image", "labels", "id")', num_workers=0)


def fingerprint(batch):
    return {"id": batch["id"].tolist(), "image": float(np.asarray(batch["image"], np.float64).sum()),
            "labels": batch["labels"].argmax(-1).tolist()}


RESTORE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from herolion.data import pipeline, state
    cfg, ckpt, n, out = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    it = pipeline.train_iterator(cfg, seed=11, process_index=0, process_count=1)
    state.restore(ckpt, it)
    res = []
    for _ in range(n):
        b = next(it)
        res.append({"id": b["id"].tolist(), "image": float(np.asarray(b["image"], np.float64).sum()),
                    "labels": b["labels"].argmax(-1).tolist()})
    json.dump(res, open(out, "w"))
""")


def test_restore_in_fresh_process(data_dir, tmp_path):
    k, n = 50, 3  # 50 batches of 32 > 1438: the restored position is in the second epoch
    it = pipeline.train_iterator(cfg(data_dir), seed=11, process_index=0, process_count=1)
    for _ in range(k):
        next(it)
    state.save(tmp_path / "ckpt", it)
    expected = [fingerprint(next(it)) for _ in range(n)]
    out = tmp_path / "restored.json"
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-c", RESTORE, json.dumps(cfg(data_dir)),
                           str(tmp_path / "ckpt"), str(n), str(out)],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(out.read_text()) == expected


def test_checkpoint_manager_item(data_dir, tmp_path):
    """The trainer's path: grain's handler as one item of an orbax CheckpointManager."""
    import grain
    import orbax.checkpoint as ocp
    it = pipeline.train_iterator(cfg(data_dir), seed=2, process_index=0, process_count=1)
    for _ in range(3):
        next(it)
    with ocp.CheckpointManager(tmp_path / "ckpts",
                               item_handlers={"data": grain.checkpoint.CheckpointHandler()}) as mngr:
        mngr.save(3, args=ocp.args.Composite(data=grain.checkpoint.CheckpointSave(it)))
        mngr.wait_until_finished()
    expected = [fingerprint(next(it)) for _ in range(2)]
    fresh = pipeline.train_iterator(cfg(data_dir), seed=2, process_index=0, process_count=1)
    with ocp.CheckpointManager(tmp_path / "ckpts",
                               item_handlers={"data": grain.checkpoint.CheckpointHandler()}) as mngr:
        assert mngr.latest_step() == 3
        restored = mngr.restore(3, args=ocp.args.Composite(
            data=grain.checkpoint.CheckpointRestore(fresh))).data
    assert [fingerprint(next(restored)) for _ in range(2)] == expected
    assert os.path.exists(tmp_path / "ckpts" / "3" / "data" / "process_0-of-1.json")


def test_get_state_set_state_in_process(data_dir):
    it = pipeline.train_iterator(cfg(data_dir), seed=4, process_index=0, process_count=1)
    next(it)
    saved = it.get_state()
    expected = fingerprint(next(it))
    other = pipeline.train_iterator(cfg(data_dir), seed=4, process_index=0, process_count=1)
    other.set_state(saved)
    assert fingerprint(next(other)) == expected
