"""GANs: model builders, objectives, the training step, the run's settings
(config) and the trainer with the files it writes (run_files)."""

from .models import IMAGE_SIZES, MODELS, build, dcgan, mlp_gan, toy_gan
from . import objectives
from .inputs import Inputs
from .objectives import OBJECTIVES
from .penalty import gradient_penalty
from .step import Game, gan_step
from .config import Config
from .trainer import Trainer, TrainingDiverged

__all__ = ["Config", "Trainer", "TrainingDiverged", "build", "dcgan", "mlp_gan", "toy_gan",
           "gan_step", "Game", "Inputs", "gradient_penalty", "objectives", "MODELS",
           "OBJECTIVES", "IMAGE_SIZES"]
