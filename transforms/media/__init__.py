"""Reading source media: opening, stream choice, display geometry, time bases, decoding, probing."""
