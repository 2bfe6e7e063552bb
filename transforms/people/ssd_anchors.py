"""SSD anchors of MediaPipe's ``object_detection_oid_v4`` graph (pure Python).

The same arithmetic as MediaPipe's ``SsdAnchorsCalculator`` with the options that
graph gives it, so that the fixed anchors written into the detector's metadata
match what MediaPipe's own graph decodes against. No Beam, no numpy: the model
build script runs this in the model venv.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SsdAnchorOptions:
    """``SsdAnchorsCalculatorOptions`` of the ``object_detection_oid_v4`` graph.

    Attributes:
        input_size: model input side in pixels (square).
        min_scale, max_scale: anchor scale of the first and last layer.
        strides: feature map stride per layer, in input pixels.
        aspect_ratios: width / height of the anchors of each location.
        interpolated_scale_aspect_ratio: aspect ratio of the extra anchor per location
            (between this layer's scale and the next), the calculator's default 1.0.
        reduce_boxes_in_lowest_layer: the first layer has three anchors only.
        anchor_offset: anchor centre inside its feature map cell (0.5: the middle).
    """

    input_size: int = 300
    min_scale: float = 0.2
    max_scale: float = 0.95
    strides: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.3333)
    interpolated_scale_aspect_ratio: float = 1.0
    reduce_boxes_in_lowest_layer: bool = True
    anchor_offset: float = 0.5


@dataclass(frozen=True)
class Anchor:
    """One anchor, normalised to the model input (0-1)."""

    x_center: float
    y_center: float
    width: float
    height: float


def _scale(options: SsdAnchorOptions, layer: int) -> float:
    count = len(options.strides)
    if count == 1:
        return (options.min_scale + options.max_scale) * 0.5
    return options.min_scale + (options.max_scale - options.min_scale) * layer / (count - 1.0)


def _layer_shapes(options: SsdAnchorOptions, layer: int) -> list[tuple[float, float]]:
    """(width, height) of the anchors at each location of one layer."""
    scale = _scale(options, layer)
    if layer == 0 and options.reduce_boxes_in_lowest_layer:
        ratios_scales = [(1.0, 0.1), (2.0, scale), (0.5, scale)]
    else:
        ratios_scales = [(ratio, scale) for ratio in options.aspect_ratios]
        if options.interpolated_scale_aspect_ratio > 0.0:
            last = layer == len(options.strides) - 1
            scale_next = 1.0 if last else _scale(options, layer + 1)
            ratios_scales.append(
                (options.interpolated_scale_aspect_ratio, math.sqrt(scale * scale_next))
            )
    return [(s * math.sqrt(r), s / math.sqrt(r)) for r, s in ratios_scales]


def ssd_anchors(options: SsdAnchorOptions | None = None) -> list[Anchor]:
    """Every anchor in the model's output order: layer, row, column, anchor shape.

    With the graph's options that is 1917 anchors (19x19x3 + 10x10x6 + 5x5x6 +
    3x3x6 + 2x2x6 + 1x1x6), the ``num_boxes`` of the model's outputs. Layers never
    share a stride in this graph, so the calculator's merging of same-stride layers
    does not arise.
    """
    options = options or SsdAnchorOptions()
    anchors: list[Anchor] = []
    for layer, stride in enumerate(options.strides):
        shapes = _layer_shapes(options, layer)
        cells = math.ceil(options.input_size / stride)
        for y in range(cells):
            for x in range(cells):
                for width, height in shapes:
                    anchors.append(
                        Anchor(
                            x_center=(x + options.anchor_offset) / cells,
                            y_center=(y + options.anchor_offset) / cells,
                            width=width,
                            height=height,
                        )
                    )
    return anchors
