"""The one line that names how a state dict and a module differ (the first
line of a :class:`~mmrm.convert.errors.StrictLoadError`), from the facts
each family's adapter reads out of the shapes (``shape``, ``compare``,
``describe``; ResNet and PVTv2 provide them).
"""
from typing import List, Mapping, Optional, Tuple

from .adapter import BackboneAdapter
from .families import ADAPTERS


def _read(state_dict: Mapping) -> Tuple[Optional[BackboneAdapter],
                                        Optional[dict]]:
    for adapter in ADAPTERS.values():
        facts = adapter.shape(state_dict) if adapter.shape else None
        if facts is not None:
            return adapter, facts
    return None, None


def backbone_shape(state_dict: Mapping) -> Optional[dict]:
    """The facts of the first family that reads ``state_dict`` (e.g.
    ``{'family': 'ResNet', 'depth': 18, 'base_width': 16, ...}``), or
    None."""
    return _read(state_dict)[1]


def differences(found: dict, target: dict) -> List[str]:
    """``['depth 18 vs 50', 'base width 16 vs 64', ...]`` (found vs
    target); the family alone when the families differ."""
    if found['family'] != target['family']:
        return [f'family {found["family"]} vs {target["family"]}']
    (adapter, ) = [a for a in ADAPTERS.values() if a.label == found['family']]
    return adapter.compare(found, target)


def mismatch_summary(state_dict: Mapping, reference: Mapping,
                     source: str = 'checkpoint') -> Optional[str]:
    """One line naming what differs between the backbone in ``state_dict``
    and the module whose state dict is ``reference``, e.g. ``'base width 16
    vs 64, stem width 16 vs 64 (checkpoint: ResNet-18 (...); module:
    ResNet-18 (...))'``; None when either is not a recognised backbone or
    the two look alike."""
    (found_by, found), (target_by, target) = _read(state_dict), _read(
        reference)
    if found is None or target is None:
        return None
    diff = differences(found, target)
    if not diff:
        return None
    return (f'{", ".join(diff)} ({source}: {found_by.describe(state_dict)}; '
            f'module: {target_by.describe(reference)})')
