"""LiT (Table 3): delegates to ``herolion/configs/lit.py`` so every paper config lives here.

    herolion train --config herolion/configs/paper/lit.py:ARGS --workdir DIR

``ARGS`` are those of ``herolion.configs.lit`` (variants B/32-B, B/16-B, g/14-L; optimizer
lion | adafactorw). Imported when called, so this folder loads even where that file is
missing (the error then names it).
"""


def get_config(arg=None):
    from herolion.configs import lit
    return lit.get_config(arg)
