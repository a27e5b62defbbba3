"""mmrm: RecursiveMix (NeurIPS 2022) for OpenMMLab.

``import mmrm`` (or ``custom_imports=dict(imports=['mmrm'])`` in a config)
registers the RM components into mmpretrain's registries.
"""
__version__ = '0.1.0'

from . import convert, engine, models  # noqa: F401,E402
