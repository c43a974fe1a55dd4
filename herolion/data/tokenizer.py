"""SentencePiece text tokenizer for LiT: train a small model locally, or load any ``.model``.

Why sentencepiece: it is what big_vision's LiT configs use, a user-supplied model
file loads unchanged, and a tiny model trains in a second from the digit captions.
Ids are int32, padded with ``pad_id`` (0 for models trained here) or truncated to a
fixed length; with ``add_eos`` the last kept token is always EOS ("sticky" EOS).
"""
import os
import tempfile

import numpy as np

from herolion.errors import ConfigError

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
DEFAULT_VOCAB_SIZE = 512   # an upper bound: 256 byte-fallback pieces + specials + BPE merges


def train(texts, model_path, *, vocab_size=DEFAULT_VOCAB_SIZE, model_type="bpe"):
    """Trains a model on ``texts`` and writes ``model_path`` atomically. Returns the path."""
    import sentencepiece as spm
    model_path = os.fspath(model_path)
    folder = os.path.dirname(os.path.abspath(model_path))
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".spm-incomplete-") as tmp:
        prefix = os.path.join(tmp, "model")
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(list(texts)), model_prefix=prefix, vocab_size=vocab_size,
            model_type=model_type, pad_id=PAD_ID, eos_id=EOS_ID, unk_id=UNK_ID, bos_id=-1,
            byte_fallback=True, hard_vocab_limit=False, character_coverage=1.0,
            num_threads=1, minloglevel=2)
        os.replace(prefix + ".model", model_path)
    return model_path


class Tokenizer:
    """A loaded sentencepiece model that encodes text to fixed-length int32 ids."""

    def __init__(self, model_path, *, field="tokenizer.model"):
        import sentencepiece as spm
        model_path = os.fspath(model_path)
        if not os.path.isfile(model_path):
            raise ConfigError(f"{field}: sentencepiece model {model_path} does not exist")
        self.model_path = model_path
        self._sp = spm.SentencePieceProcessor(model_file=model_path)
        self.vocab_size = int(self._sp.get_piece_size())
        self.pad_id = int(self._sp.pad_id()) if self._sp.pad_id() >= 0 else 0
        self.eos_id = int(self._sp.eos_id())

    def encode(self, text, length, *, add_eos=True):
        """One string -> int32 ``[length]``; a list of strings -> ``[N, length]``."""
        if not isinstance(text, (str, bytes)):
            return np.stack([self.encode(t, length, add_eos=add_eos) for t in text])
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        ids = list(self._sp.encode(text))
        if add_eos and self.eos_id >= 0:
            ids = ids[:length - 1] + [self.eos_id]
        ids = ids[:length]
        out = np.full((length,), self.pad_id, np.int32)
        out[:len(ids)] = ids
        return out

    def decode(self, ids):
        """int ids -> text, dropping padding and EOS."""
        keep = [int(i) for i in np.asarray(ids).reshape(-1) if i not in (self.pad_id, self.eos_id)]
        return self._sp.decode(keep)


_CACHE = {}


def load(model_path, *, field="tokenizer.model"):
    """A cached :class:`Tokenizer` (one per path and process)."""
    key = os.path.abspath(os.fspath(model_path))
    if key not in _CACHE:
        _CACHE[key] = Tokenizer(model_path, field=field)
    return _CACHE[key]
