"""Network blocks shared by the methods: image (conv) and tabular (MLP) variants."""

from .autoencoder import (
    ConvDecoder,
    ConvEncoder,
    MLPDecoder,
    MLPEncoder,
    downsampling_plan,
    l2_normalize,
)
from .category_style import (
    CategoryStyleEncoder,
    Grayscale,
    dccs_trunk,
    latent_mlp,
    xavier_init,
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
    "CategoryStyleEncoder",
    "ConvDecoder",
    "ConvDiscriminator",
    "ConvEncoder",
    "ConvGenerator",
    "Grayscale",
    "MLPDiscriminator",
    "MLPGenerator",
    "MultiHeadClassifier",
    "SobelFrontEnd",
    "MLPDecoder",
    "MLPEncoder",
    "ResidualBlock",
    "UpResidualBlock",
    "dccs_trunk",
    "downsampling_plan",
    "l2_normalize",
    "latent_mlp",
    "mlp",
    "xavier_init",
]
