"""``herolion data prepare NAME --data-dir DIR``: make a local tfds dataset, once.

Why a CLI command: datasets are made on the machine that trains (no downloads),
before the first ``herolion train``; the Python API is ``herolion.data.prepare``.
"""
from herolion.errors import ConfigError

DATASETS = ("digits", "digits_captions", "image_folder")


def register(subparsers):
    data = subparsers.add_parser("data", help="prepare local datasets",
                                 description=__doc__.splitlines()[0])
    sub = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    prep = sub.add_parser("prepare", help="write a tfds dataset (array_record) into --data-dir")
    prep.add_argument("name", help=f"one of: {', '.join(DATASETS)}")
    prep.add_argument("--data-dir", required=True, help="folder of tfds datasets")
    prep.add_argument("--image-size", type=int, default=None,
                      help="digits/digits_captions: side of the square RGB images (default 32)")
    prep.add_argument("--source-dir", default=None,
                      help="image_folder: folder of class-named sub-folders of JPEG/PNG files")
    prep.add_argument("--dataset-name", default=None,
                      help="image_folder: the tfds name to write (default image_folder)")
    prep.set_defaults(func=run_prepare)


def run_prepare(args):
    from herolion.data import prepare
    if args.name not in DATASETS:
        prepare.prepare(args.name, args.data_dir)  # raises the ConfigError with a hint
    options = {}
    if args.name == "image_folder":
        if args.image_size is not None:
            raise ConfigError("--image-size: not an option of image_folder")
        options = {"source_dir": args.source_dir, "dataset_name": args.dataset_name}
    else:
        if args.source_dir is not None or args.dataset_name is not None:
            raise ConfigError(f"--source-dir/--dataset-name: only for image_folder, not {args.name}")
        options = {"image_size": args.image_size}
    path = prepare.prepare(args.name, args.data_dir, **options)
    print(path)
    return 0
