"""Network blocks shared by the methods: image (conv) and tabular (MLP) variants."""

from .autoencoder import (
    ConvDecoder,
    ConvEncoder,
    MLPDecoder,
    MLPEncoder,
    downsampling_plan,
    l2_normalize,
)
from .blocks import ResidualBlock, UpResidualBlock, mlp

__all__ = [
    "ConvDecoder",
    "ConvEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "ResidualBlock",
    "UpResidualBlock",
    "downsampling_plan",
    "l2_normalize",
    "mlp",
]
