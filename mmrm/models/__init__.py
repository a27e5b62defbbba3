from . import backbones  # noqa: F401  (registers PyramidNet, ...)
from .data_preprocessor import RecursiveMixDataPreprocessor
from .heads import RecursiveMixHead
from .recursive_mix import RecursiveMix, mix_labels, paste_history, sample_box

__all__ = [
    'RecursiveMix', 'RecursiveMixDataPreprocessor', 'RecursiveMixHead',
    'mix_labels', 'paste_history', 'sample_box'
]
