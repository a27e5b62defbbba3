"""What the converter needs to know about one backbone family.

Every family (ResNet, PVTv2, ViT, Swin) is one :class:`BackboneAdapter`,
built in its own file under :mod:`mmrm.convert.families` and registered in
the table :data:`mmrm.convert.families.ADAPTERS`. The converter's steps
(:mod:`.targets`, :mod:`.extract`, :mod:`.verify`, :mod:`.mismatch`) look
a family up in that table and call its functions; none of them compares
family names. Adding a family = one new adapter file + one table entry.
"""
import re
from dataclasses import dataclass
from typing import (Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple)

import torch.nn as nn

#: ``state_dict -> (state_dict, notes)``; notes may hold ``dropped`` and
#: ``filled`` (lists of keys), ``pos_embed_resized``, ``unchecked``
Adapted = Tuple[Dict, dict]


@dataclass(frozen=True)
class Request:
    """One conversion, as the family's ``adapt`` sees it.

    Attributes:
        source: the input path (error messages name it).
        name: the target's readable name (a preset or the family's label).
        resize_pos_embed: interpolate a position embedding of another grid
            (families with ``resizes_pos_embed``).
        training_cfg: returns the pretraining backbone, resolved like a
            target, when the checkpoint's mmengine ``meta.cfg`` holds it
            and it is of this family (else None); called only by the
            families that check what the weights do not store.
    """
    source: str
    name: str
    resize_pos_embed: bool = False
    training_cfg: Callable[[], Optional[dict]] = lambda: None


@dataclass(frozen=True)
class ReleaseLayout:
    """An official release's own key layout (e.g. PVT's ``block1.*``),
    translated to the OpenMMLab keys before anything else.

    Attributes:
        name: recorded as ``meta['source_layout']``.
        detect: ``state_dict -> bool``.
        translate: ``state_dict -> (state_dict, dropped keys)``.
    """
    name: str
    detect: Callable[[Mapping], bool]
    translate: Callable[[Mapping], Tuple[Dict, List[str]]]


@dataclass(frozen=True)
class BackboneAdapter:
    """The functions and data of one backbone family.

    Attributes:
        family: the table key, e.g. ``'resnet'``.
        label: the family in messages, e.g. ``'ResNet'``.
        types: the config ``type`` names it converts to (without scope).
        presets: ``--backbone`` name -> target config dict.
        detect: ``state_dict -> bool``: the checkpoint's backbone is of
            this family (read from its keys).
        describe: ``state_dict -> str``: one phrase for messages, e.g.
            ``'ResNet-18 (BasicBlock, ...)'``.
        resolve: ``(cfg, name or None) -> (full target cfg, name)``: fill in
            the defaults, translate an mmpretrain-style config, refuse
            unsupported settings (:class:`~.errors.WrongBackboneError`).
        adapt: ``(state_dict, cfg, Request) -> (state_dict, notes)``: check
            the checkpoint against the target and map its keys to the
            target's layout.
        build_targets: ``cfg -> [(name, module)]``: the mmdet / mmseg
            modules the converted weights must load into strictly.
        shape: optional ``state_dict -> dict or None``: facts read from the
            shapes (``'family'`` = label, depth, widths...), for the one-line
            difference of a :class:`~.errors.StrictLoadError`.
        compare: optional ``(found, target) -> [str]``: that difference
            between two ``shape`` results, e.g. ``['base width 16 vs 64']``.
        hint: optional ``(state_dict, cfg) -> str or None``: what to pass
            instead when the strict load fails.
        release: optional :class:`ReleaseLayout`.
        resizes_pos_embed: honours ``resize_pos_embed``.
    """
    family: str
    label: str
    types: Tuple[str, ...]
    presets: Mapping[str, dict]
    detect: Callable[[Mapping], bool]
    describe: Callable[[Mapping], str]
    resolve: Callable[[dict, Optional[str]], Tuple[dict, str]]
    adapt: Callable[[Dict, dict, Request], Adapted]
    build_targets: Callable[[dict], List[Tuple[str, nn.Module]]]
    shape: Optional[Callable[[Mapping], Optional[dict]]] = None
    compare: Optional[Callable[[dict, dict], List[str]]] = None
    hint: Optional[Callable[[Mapping, dict], Optional[str]]] = None
    release: Optional[ReleaseLayout] = None
    resizes_pos_embed: bool = False


def count_blocks(state_dict: Mapping, pattern: str) -> int:
    """1 + the largest index that the first group of ``pattern`` matches at
    the start of a key (0 when none does), e.g. the blocks of a stage."""
    found = {int(m.group(1)) for k in state_dict
             for m in [re.match(pattern, k)] if m}
    return max(found) + 1 if found else 0


def compare_fields(found: dict, target: dict,
                   fields: Sequence[Tuple[str, str]],
                   skip: Sequence[str] = ()) -> List[str]:
    """``['<label> <found> vs <target>', ...]`` for the ``(key, label)``
    fields that differ, in the given order, except those in ``skip``."""
    return [f'{label} {found.get(key)} vs {target.get(key)}'
            for key, label in fields
            if key not in skip and found.get(key) != target.get(key)]
