"""Checkpoint conversion and strict pretrained initialisation.

Reading and unwrapping checkpoints (:mod:`.loading`, :mod:`.keys`), the
backbone targets and their key mapping (:mod:`.backbones`; ViT and Swin in
:mod:`.transformers` and :mod:`.transformer_keys`), conversion with
strict verification (:mod:`.checkpoint`), the errors they raise
(:mod:`.errors`) and the ``StrictPretrained`` weight initializer
(:mod:`.strict_init`, registered in mmengine's root ``WEIGHT_INITIALIZERS``
on import).
"""
from .backbones import PRESETS, resolve_backbone
from .checkpoint import convert_checkpoint, extract_backbone, verify_backbone
from .errors import (CheckpointError, DeepStemError, NotACheckpointError,
                     StrictLoadError, TaskCheckpointError,
                     UnsafeCheckpointError, WrongBackboneError)
from .loading import (allow_mmengine_checkpoints, load_checkpoint_file,
                      mmengine_safe_globals)
from .strict_init import StrictPretrainedInit, load_state_dict_strictly
from .transformer_keys import ArchitectureMismatchError, PositionEmbeddingError

__all__ = [
    'convert_checkpoint', 'extract_backbone', 'verify_backbone', 'PRESETS',
    'resolve_backbone', 'CheckpointError', 'NotACheckpointError',
    'UnsafeCheckpointError', 'TaskCheckpointError', 'WrongBackboneError',
    'DeepStemError', 'StrictLoadError', 'StrictPretrainedInit',
    'load_state_dict_strictly',
    'load_checkpoint_file', 'mmengine_safe_globals',
    'allow_mmengine_checkpoints', 'ArchitectureMismatchError',
    'PositionEmbeddingError'
]
