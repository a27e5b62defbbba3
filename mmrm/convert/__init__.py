"""Checkpoint conversion and strict pretrained initialisation.

The conversion, step by step (:mod:`.pipeline`): find the backbone in the
checkpoint (:mod:`.layouts`, reading through :mod:`.loading`), resolve the
target (:mod:`.targets`), let the family's adapter check and map the keys
(:mod:`.extract`; one adapter per family in :mod:`.families`, the interface
in :mod:`.adapter`), load strictly into mmdet / mmseg (:mod:`.verify`) and
save (:mod:`.write`). Errors: :mod:`.errors`, with the one-line difference
of :mod:`.mismatch`. ``StrictPretrained`` (:mod:`.strict_init`) is
registered in mmengine's root ``WEIGHT_INITIALIZERS`` on import.
"""
from .errors import (ArchitectureMismatchError, CheckpointError,
                     DeepStemError, NotACheckpointError,
                     PositionEmbeddingError, StrictLoadError,
                     TaskCheckpointError, UnsafeCheckpointError,
                     WrongBackboneError)
from .extract import extract_backbone
from .families import ADAPTERS
from .layouts import unwrap_state_dict
from .loading import (allow_mmengine_checkpoints, load_checkpoint_file,
                      mmengine_safe_globals)
from .pipeline import convert_backbone, convert_checkpoint
from .strict_init import StrictPretrainedInit, load_state_dict_strictly
from .targets import PRESETS, preset_name, resolve_backbone, resolve_target
from .verify import verify_backbone
from .write import ConvertedBackbone, write_backbone

__all__ = [
    'convert_checkpoint', 'convert_backbone', 'write_backbone',
    'ConvertedBackbone', 'extract_backbone', 'verify_backbone', 'ADAPTERS',
    'PRESETS', 'preset_name', 'resolve_backbone', 'resolve_target',
    'unwrap_state_dict', 'CheckpointError', 'NotACheckpointError',
    'UnsafeCheckpointError', 'TaskCheckpointError', 'WrongBackboneError',
    'DeepStemError', 'ArchitectureMismatchError', 'PositionEmbeddingError',
    'StrictLoadError', 'StrictPretrainedInit', 'load_state_dict_strictly',
    'load_checkpoint_file', 'mmengine_safe_globals',
    'allow_mmengine_checkpoints'
]
