"""mmrm: RecursiveMix (NeurIPS 2022) for OpenMMLab.

``import mmrm`` (or ``custom_imports=dict(imports=['mmrm'])`` in a config)
registers the RM components into mmpretrain's registries, the strict
backbones into mmdet's, ``PresentClassIoUMetric`` into mmseg's and
``StrictPretrained`` into mmengine's.
"""
from .version import __version__  # noqa: F401

from . import convert, engine, evaluation, models  # noqa: F401,E402
