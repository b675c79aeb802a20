"""GANs: model builders, objectives, the training step (and the trainer)."""

from .models import IMAGE_SIZES, MODELS, build, dcgan, mlp_gan, toy_gan
from .objectives import OBJECTIVES
from .step import gan_step
from .trainer import Config, Trainer, TrainingDiverged

__all__ = ["Config", "Trainer", "TrainingDiverged", "build", "dcgan", "mlp_gan", "toy_gan",
           "gan_step", "MODELS", "OBJECTIVES",
           "IMAGE_SIZES"]
