"""ml_collections configs: ``herolion train --config herolion/configs/NAME.py:ARGS``."""
