"""ap-avs: the Ava Protocol automation AVS aggregator and operator."""

from ap_avs.version import __version__

__all__ = ["__version__"]
