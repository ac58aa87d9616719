"""DiSCo student training: distillation data, losses, regularisers and the HF ``Trainer`` loop."""
from disco_pyserini.train.config import TrainConfig, load_config
from disco_pyserini.train.data import BuildStats, DistillCollator, DistillDataset, build_distillation, fuse

__all__ = ["BuildStats", "DistillCollator", "DistillDataset", "TrainConfig", "build_distillation", "fuse",
           "load_config", "train"]


def train(config: TrainConfig):
    """Train a student (see :func:`disco_pyserini.train.trainer.train`); imported lazily, it loads the Trainer."""
    from disco_pyserini.train.trainer import train as _train

    return _train(config)
