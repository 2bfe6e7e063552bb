"""The version stamped on every catalog row."""

from importlib import metadata

try:
    PIPELINE_VERSION = metadata.version("reelbeam")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    PIPELINE_VERSION = "0.0.0+source"
