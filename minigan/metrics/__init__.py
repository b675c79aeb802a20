"""Measuring GAN quality offline: an MNIST evaluator classifier built with
minigan, classifier FID / IS / coverage, and PacGAN's 2D mode metrics."""

from .scores import class_coverage, frechet_distance, inception_score, mode_metrics

__all__ = ["frechet_distance", "inception_score", "class_coverage", "mode_metrics"]
