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
from .gan import (
    ConvDiscriminator,
    ConvGenerator,
    MLPDiscriminator,
    MLPGenerator,
    MultiHeadClassifier,
    SobelFrontEnd,
)

__all__ = [
    "ConvDecoder",
    "ConvDiscriminator",
    "ConvEncoder",
    "ConvGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "MultiHeadClassifier",
    "SobelFrontEnd",
    "MLPDecoder",
    "MLPEncoder",
    "ResidualBlock",
    "UpResidualBlock",
    "downsampling_plan",
    "l2_normalize",
    "mlp",
]
