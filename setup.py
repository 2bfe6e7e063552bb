"""Stub for Dataflow's ``--setup_file``; ``pyproject.toml`` is the source of truth."""

import setuptools

setuptools.setup()
