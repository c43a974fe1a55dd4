"""Input data: local tfds datasets, grain pipelines, preprocessing ops, tokenizer.

Why a package of small modules: the trainer needs only ``pipeline`` (train and eval
iterators from a config) and ``mixup``; ``prepare`` and the builders pull in
TensorFlow (tfds needs it to *write* image datasets), so they are imported only
when a dataset is being made. Importing ``herolion.data`` itself is cheap.

Entry points::

    from herolion.data import prepare, pipeline
    prepare.prepare("digits", "/data")                      # once, idempotent
    it = pipeline.train_iterator(config.input, seed=config.seed)
    for batch in pipeline.eval_iterator(config.evals.val, data_dir=...): ...
"""
