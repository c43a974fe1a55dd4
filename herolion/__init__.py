"""herolion: a big_vision-style JAX trainer for the Lion optimizer at scale.

Subpackages are imported lazily by users (``herolion.optim``, ``herolion.models``...),
so importing ``herolion`` itself costs nothing and needs only the standard library.
"""

__version__ = "0.1.0"
