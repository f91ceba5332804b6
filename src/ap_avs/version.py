"""The package version, read once from the installed distribution metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ap-avs")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
