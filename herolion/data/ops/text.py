"""Text ops: ``tokenize(max_len, model=..., inkey="caption", outkey="labels")``.

``model`` is a sentencepiece ``.model`` path: absolute, relative to the working
folder, relative to the pipeline's ``data_dir``, or ``"digits_captions"`` for the
model ``herolion data prepare digits_captions`` trained. The model loads lazily
(once per worker process), so the op pickles into grain workers as a path.
"""
import os

from herolion.data.ops.registry import register


def resolve_model(model, data_dir=None):
    from herolion.data import prepare
    if model == "digits_captions":
        if not data_dir:
            raise ValueError("tokenize(model='digits_captions') needs the pipeline's data_dir")
        return prepare.tokenizer_path(data_dir)
    if os.path.isabs(model) or os.path.exists(model) or not data_dir:
        return model
    return os.path.join(data_dir, model)


@register("tokenize")
def tokenize(max_len, model="digits_captions", inkey="caption", outkey="labels", *,
             add_eos=True, data_dir=None):
    from herolion.data import tokenizer
    path = resolve_model(model, data_dir)
    tokenizer.load(path, field=f"tokenize(model={model!r})")  # fail early, in the parser

    def op(example, rng):
        del rng
        ids = tokenizer.load(path).encode(example[inkey], int(max_len), add_eos=add_eos)
        return {**example, outkey: ids}
    return op
