"""Finding people far from the camera: an SSD person detector, tiles, crops and tracks."""
