"""GANs: model builders, objectives, the training step (and the trainer)."""

from .models import IMAGE_SIZES, MODELS, build, dcgan, mlp_gan, toy_gan
from .objectives import OBJECTIVES
from .step import gan_step

__all__ = ["build", "dcgan", "mlp_gan", "toy_gan", "gan_step", "MODELS", "OBJECTIVES",
           "IMAGE_SIZES"]
