"""GANs: model builders, objectives, the training step (and the trainer)."""

from .models import IMAGE_SIZES, MODELS, build, dcgan, mlp_gan, toy_gan
from . import objectives
from .inputs import Inputs
from .objectives import OBJECTIVES
from .penalty import gradient_penalty
from .step import Game, gan_step
from .trainer import Config, Trainer, TrainingDiverged

__all__ = ["Config", "Trainer", "TrainingDiverged", "build", "dcgan", "mlp_gan", "toy_gan",
           "gan_step", "Game", "Inputs", "gradient_penalty", "objectives", "MODELS",
           "OBJECTIVES", "IMAGE_SIZES"]
