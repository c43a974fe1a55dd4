"""SentencePiece tokenizer: trained at prepare time, any .model loads, fixed-length int32."""
import os

import numpy as np
import pytest

from herolion.data import captions, pipeline, prepare, tokenizer
from herolion.errors import ConfigError


def test_prepared_model_encodes_captions(data_dir):
    tok = tokenizer.load(prepare.tokenizer_path(data_dir))
    assert tok.pad_id == 0 and tok.eos_id == 1
    text = captions.caption(7, captions.TRAIN_TEMPLATES[0])
    ids = tok.encode(text, 16)
    assert ids.dtype == np.int32 and ids.shape == (16,)
    n = int((ids != tok.pad_id).sum())
    assert ids[n - 1] == tok.eos_id and (ids[n:] == 0).all()
    assert tok.decode(ids) == text
    short = tok.encode(text, 3)
    assert short.shape == (3,) and short[-1] == tok.eos_id  # truncated, EOS kept
    np.testing.assert_array_equal(short[:2], ids[:2])
    batch = tok.encode([text, "a handwritten 3"], 8)
    assert batch.shape == (2, 8) and batch.dtype == np.int32


def test_heldout_prompts_are_encodable(data_dir):
    tok = tokenizer.load(prepare.tokenizer_path(data_dir))
    for c in range(10):
        for text in captions.captions_for_class(c):
            assert tok.decode(tok.encode(text, 32)) == text
    assert tok.decode(tok.encode("Zebra? ünïcode", 32)) == "Zebra? ünïcode"  # byte fallback


def test_user_supplied_model(tmp_path):
    path = tokenizer.train(["hello world", "hello there", "general kenobi"] * 20,
                           tmp_path / "user.model", vocab_size=280)
    tok = tokenizer.Tokenizer(path)
    assert tok.decode(tok.encode("hello there", 10, add_eos=False)) == "hello there"
    assert not [f for f in os.listdir(tmp_path) if "incomplete" in f]
    with pytest.raises(ConfigError, match="does not exist"):
        tokenizer.Tokenizer(tmp_path / "missing.model")


def test_tokenize_op_in_pipeline(data_dir):
    cfg = dict(data=dict(name="digits_captions", split="train"), data_dir=data_dir, batch_size=8,
               pp='decode|value_range(-1, 1)|tokenize(12)|keep("image", "labels", "caption")')
    b = next(pipeline.train_iterator(cfg, seed=0, process_index=0, process_count=1))
    assert b["labels"].shape == (8, 12) and b["labels"].dtype == np.int32
    tok = tokenizer.load(prepare.tokenizer_path(data_dir))
    for ids, text in zip(b["labels"], b["caption"]):
        assert tok.decode(ids) == (text.decode() if isinstance(text, bytes) else text)
    with pytest.raises(ConfigError, match="does not exist"):
        pipeline.train_dataset({**cfg, "pp": "tokenize(8, model='nope.model')"},
                               process_index=0, process_count=1)
