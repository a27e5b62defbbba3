"""Checkpoint conversion and strict pretrained initialisation.

``import mmrm.convert`` registers the ``StrictPretrained`` weight initializer
(mmengine root ``WEIGHT_INITIALIZERS``) and, when mmdet is installed,
``StrictPyramidVisionTransformerV2`` (mmdet ``MODELS``).
"""
from .backbones import PRESETS, resolve_backbone
from .checkpoint import convert_checkpoint, extract_backbone, verify_backbone
from .errors import (CheckpointError, DeepStemError, NotACheckpointError,
                     StrictLoadError, TaskCheckpointError,
                     UnsafeCheckpointError, WrongBackboneError)
from .loading import (allow_mmengine_checkpoints, load_checkpoint_file,
                      mmengine_safe_globals)
from .strict_init import StrictPretrainedInit, load_state_dict_strictly

try:  # mmdet is optional for mmrm's pretraining part
    from .pvt import StrictPyramidVisionTransformerV2  # noqa: F401
except ImportError:  # pragma: no cover
    StrictPyramidVisionTransformerV2 = None

__all__ = [
    'convert_checkpoint', 'extract_backbone', 'verify_backbone', 'PRESETS',
    'resolve_backbone', 'CheckpointError', 'NotACheckpointError',
    'UnsafeCheckpointError', 'TaskCheckpointError', 'WrongBackboneError',
    'DeepStemError', 'StrictLoadError', 'StrictPretrainedInit',
    'StrictPyramidVisionTransformerV2', 'load_state_dict_strictly',
    'load_checkpoint_file', 'mmengine_safe_globals',
    'allow_mmengine_checkpoints'
]
