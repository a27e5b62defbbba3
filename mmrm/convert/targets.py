"""The target of a conversion: a ``--backbone`` preset or a backbone config
dict, resolved by its family's adapter; and the family a checkpoint holds.

A target is described by a config dict in OpenMMLab style; its ``type``
(an optional scope such as ``mmpretrain.``/``mmdet.`` is ignored) picks the
adapter of :data:`~mmrm.convert.families.ADAPTERS`.
"""
import copy
from typing import Dict, Mapping, NamedTuple, Optional, Tuple, Union

from .adapter import BackboneAdapter
from .errors import WrongBackboneError
from .families import ADAPTERS

#: ``--backbone`` presets of every family
PRESETS: Dict[str, dict] = {
    name: cfg for a in ADAPTERS.values() for name, cfg in a.presets.items()}
#: config type -> adapter
TYPES: Dict[str, BackboneAdapter] = {
    t: a for a in ADAPTERS.values() for t in a.types}


class Target(NamedTuple):
    """A resolved target: its family's adapter, the full config dict (no
    scope in ``type``, defaults filled in), a readable name."""
    adapter: BackboneAdapter
    cfg: dict
    name: str


def plain(obj):
    """ConfigDict / tuple -> plain dict / list (for messages and meta)."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def preset_name(name: str,
                alternative: str = 'or pass a backbone config dict') -> str:
    """The preset key that ``name`` spells (case and ``_``/``-``
    ignored, e.g. ``'PVTv2_B1'`` -> ``'pvtv2-b1'``).

    Raises:
        WrongBackboneError: no such preset (the message lists them, then
            ``alternative``).
    """
    key = name.lower().replace('_', '-')
    if key not in PRESETS:
        raise WrongBackboneError(
            f'unknown backbone preset {name!r}; choose one of '
            f'{", ".join(PRESETS)}, {alternative}')
    return key


def resolve_target(backbone: Union[str, Mapping]) -> Target:
    """A preset name or a backbone config dict -> :class:`Target`.

    Raises:
        WrongBackboneError: unknown preset, unsupported type or setting.
    """
    if isinstance(backbone, str):
        name: Optional[str] = preset_name(backbone)
        cfg = copy.deepcopy(PRESETS[name])
    elif isinstance(backbone, Mapping) and 'type' in backbone:
        cfg, name = plain(backbone), None
    else:
        raise WrongBackboneError(
            f'backbone must be a preset name or a config dict with a type, '
            f'got {backbone!r}')
    btype = cfg['type'] if isinstance(cfg['type'], str) \
        else cfg['type'].__name__
    cfg['type'] = btype.split('.')[-1]
    adapter = TYPES.get(cfg['type'])
    if adapter is None:
        raise WrongBackboneError(
            f'backbone type {cfg["type"]!r} is not supported by the '
            f'converter; supported: {", ".join(TYPES)}')
    cfg, name = adapter.resolve(cfg, name)
    return Target(adapter, cfg, name)


def resolve_backbone(backbone: Union[str, Mapping]) -> Tuple[str, dict, str]:
    """``(family, cfg, name)`` of :func:`resolve_target` (family: a key of
    :data:`~mmrm.convert.families.ADAPTERS`)."""
    target = resolve_target(backbone)
    return target.adapter.family, target.cfg, target.name


def detect_family(state_dict: Mapping) -> Optional[BackboneAdapter]:
    """The adapter whose ``detect`` recognises the keys, or None."""
    return next((a for a in ADAPTERS.values() if a.detect(state_dict)), None)
