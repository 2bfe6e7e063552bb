"""Encoding with PyAV: proxies, ladder renditions, chunk-parallel encodes, stills, highlight reels."""
