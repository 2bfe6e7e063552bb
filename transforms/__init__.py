"""reelbeam transforms: public composite PTransforms over small DoFns and pure functions."""
