"""Only the optional C extension lives here; everything else is in pyproject.toml.

``herolion.data.ops._jpeg_crop`` decodes just the crop window of a JPEG with the system's
libjpeg-turbo (Debian: libjpeg62-turbo-dev). ``optional=True``: without a compiler or the
headers the install still succeeds and the data pipeline decodes whole images instead.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("herolion.data.ops._jpeg_crop",
                             sources=["herolion/data/ops/_jpeg_crop.c"],
                             libraries=["jpeg"], optional=True,
                             extra_compile_args=["-O2"])])
