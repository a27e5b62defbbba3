"""Read a pretraining checkpoint and return its backbone in the target's
layout: find the backbone (:mod:`.layouts`), check that its family is the
target's, and let the family's adapter check and map it."""
from typing import Mapping, NamedTuple, Optional, Union

from .adapter import Request
from .errors import CheckpointError, WrongBackboneError, format_keys
from .families import ADAPTERS
from .layouts import (fill_num_batches_tracked, split_backbone,
                      unwrap_state_dict)
from .loading import load_checkpoint_file
from .targets import TYPES, Target, detect_family, resolve_target


class Extracted(NamedTuple):
    """The backbone weights in the target's layout and how they were got.

    ``notes``: what the adapter recorded (``pos_embed_resized``,
    ``unchecked``), written into the output's ``meta``.
    """
    state_dict: dict
    target: Target
    layout: str
    dropped_keys: list
    filled_keys: list
    notes: dict


def training_backbone(raw, target: Target) -> Optional[dict]:
    """The pretraining backbone, resolved like a target, from the training
    config that mmengine stores as text in ``meta.cfg`` (None when absent,
    unreadable or of another family)."""
    text = raw.get('meta', {}).get('cfg') if isinstance(raw, Mapping) \
        else None
    if not isinstance(text, str):
        return None
    try:
        from mmengine.config import Config
        backbone = Config.fromstring(text, '.py').model.backbone.to_dict()
        if TYPES.get(str(backbone['type']).split('.')[-1]) is not \
                target.adapter:
            return None
        return resolve_target(backbone).cfg
    except Exception:  # noqa: BLE001 - only an extra check is lost
        return None


def _wrong_family(state_dict: Mapping, source: str, target: Target) -> str:
    found = detect_family(state_dict)
    what = found.describe(state_dict) if found else \
        f'unknown (first keys: {format_keys(list(state_dict)[:3], 3)})'
    return (f'{source} holds a {what} backbone, but the target is '
            f'{target.adapter.label} ({target.name}); pick the matching '
            f'--backbone')


def extract_backbone(src: str,
                     backbone: Union[str, Mapping] = 'resnet50',
                     trusted: bool = False,
                     resize_pos_embed: bool = False) -> Extracted:
    """Read ``src`` and return its backbone weights in the target's layout.

    Args:
        src: checkpoint path (mmpretrain / official RecursiveMix / PVT).
        backbone: preset name or backbone config dict, see
            :func:`~mmrm.convert.targets.resolve_target`.
        trusted: allow full unpickling of ``src``.
        resize_pos_embed: families with a position embedding (ViT, Swin):
            interpolate one of another grid to the target's (otherwise an
            error).

    Raises:
        the :mod:`mmrm.convert.errors` exceptions and FileNotFoundError.
    """
    target = resolve_target(backbone)
    adapter = target.adapter
    if resize_pos_embed and not adapter.resizes_pos_embed:
        able = '/'.join(a.label for a in ADAPTERS.values()
                        if a.resizes_pos_embed)
        raise CheckpointError(
            f'resize_pos_embed applies to {able} targets, not {target.name}')
    raw = load_checkpoint_file(src, trusted=trusted)
    state_dict, layout, dropped = split_backbone(
        unwrap_state_dict(raw, src), src,
        [a.release for a in ADAPTERS.values() if a.release])
    if detect_family(state_dict) is not adapter:
        raise WrongBackboneError(_wrong_family(state_dict, src, target))
    request = Request(source=src, name=target.name,
                      resize_pos_embed=resize_pos_embed,
                      training_cfg=lambda: training_backbone(raw, target))
    state_dict, notes = adapter.adapt(state_dict, target.cfg, request)
    dropped += notes.pop('dropped', [])
    filled = notes.pop('filled', []) + fill_num_batches_tracked(state_dict)
    return Extracted(state_dict, target, layout, sorted(dropped), filled,
                     notes)
