"""What a backbone state dict is, read from its own keys and shapes, and the
one line that names how two of them differ (the first line of a
:class:`~mmrm.convert.errors.StrictLoadError`).

* ResNet (torchvision / mmpretrain / mmdet / mmseg keys): depth, block type,
  base width (``layer1.0.conv1`` output channels), stem width and kind
  (plain ``conv1`` or deep ``stem.*``), input channels.
* PVTv2 (mmdet keys): embedding dims and blocks per stage, input channels.
"""
import re
from typing import List, Mapping, Optional

from .backbones import RESNET_BLOCKS

#: (blocks per stage, block type) -> ResNet depth
RESNET_DEPTHS = {(blocks, 'Bottleneck' if depth >= 50 else 'BasicBlock'): depth
                 for depth, blocks in RESNET_BLOCKS.items()}
#: base (and stem) width of the standard ResNets, i.e. of the presets
STANDARD_RESNET_WIDTH = 64


def _shape(v) -> tuple:
    return tuple(getattr(v, 'shape', ()))


def _stage_indices(state_dict: Mapping, pattern: str) -> List[int]:
    """Numbers of blocks per stage for a ``{stage}``/``(\\d+)`` pattern."""
    counts = []
    for stage in range(1, 9):
        idx = {int(m.group(1)) for k in state_dict
               for m in [re.match(pattern.format(stage=stage), k)] if m}
        if not idx:
            break
        counts.append(max(idx) + 1)
    return counts


def resnet_shape(state_dict: Mapping) -> Optional[dict]:
    """``{'family': 'ResNet', 'depth', 'blocks', 'block', 'base_width',
    'stem_width', 'stem', 'in_channels'}`` of a ResNet state dict, or None
    when the keys are not a ResNet's."""
    if 'layer1.0.conv1.weight' not in state_dict:
        return None
    blocks = tuple(_stage_indices(state_dict, r'layer{stage}\.(\d+)\.'))
    block = 'Bottleneck' if 'layer1.0.conv3.weight' in state_dict \
        else 'BasicBlock'
    stem_convs = sorted(
        (int(m.group(1)), k) for k in state_dict
        for m in [re.match(r'stem\.(\d+)\.(conv\.)?weight$', k)]
        if m and len(_shape(state_dict[k])) == 4)
    if stem_convs:
        first, last = state_dict[stem_convs[0][1]], state_dict[
            stem_convs[-1][1]]
        stem = 'deep'
    elif 'conv1.weight' in state_dict:
        first = last = state_dict['conv1.weight']
        stem = 'plain'
    else:
        return None
    return dict(family='ResNet', depth=RESNET_DEPTHS.get((blocks, block)),
                blocks=blocks, block=block,
                base_width=_shape(state_dict['layer1.0.conv1.weight'])[0],
                stem_width=_shape(last)[0], stem=stem,
                in_channels=_shape(first)[1])


def pvt_shape(state_dict: Mapping) -> Optional[dict]:
    """``{'family': 'PVTv2', 'embed_dims', 'depths', 'in_channels'}`` of an
    mmdet PVTv2 state dict, or None."""
    if 'layers.0.0.projection.weight' not in state_dict:
        return None
    depths = _stage_indices(
        {re.sub(r'^layers\.(\d+)', lambda m: f'layers.{int(m.group(1)) + 1}',
                k): v for k, v in state_dict.items()},
        r'layers\.{stage}\.1\.(\d+)\.')
    dims = tuple(_shape(state_dict[f'layers.{i}.0.projection.weight'])[0]
                 for i in range(len(depths)))
    return dict(family='PVTv2', embed_dims=dims, depths=tuple(depths),
                in_channels=_shape(
                    state_dict['layers.0.0.projection.weight'])[1])


def backbone_shape(state_dict: Mapping) -> Optional[dict]:
    """:func:`resnet_shape` or :func:`pvt_shape`, whichever applies."""
    return resnet_shape(state_dict) or pvt_shape(state_dict)


def describe(shape: Optional[dict]) -> str:
    """``'ResNet-18 (BasicBlock, blocks (2, 2, 2, 2), base width 16, plain
    stem of width 16)'``; ``'an unrecognised backbone'`` for None."""
    if shape is None:
        return 'an unrecognised backbone'
    if shape['family'] == 'ResNet':
        name = f'ResNet-{shape["depth"]}' if shape['depth'] else 'ResNet'
        return (f'{name} ({shape["block"]}, blocks {shape["blocks"]}, base '
                f'width {shape["base_width"]}, {shape["stem"]} stem of width '
                f'{shape["stem_width"]})')
    return (f'PVTv2 (embed dims {shape["embed_dims"]}, depths '
            f'{shape["depths"]})')


#: compared fields, in the order a reader checks them
_FIELDS = (('family', 'family'), ('depth', 'depth'), ('block', 'block type'),
           ('blocks', 'blocks per stage'), ('base_width', 'base width'),
           ('stem', 'stem'), ('stem_width', 'stem width'),
           ('embed_dims', 'embed dims'), ('depths', 'depths'),
           ('in_channels', 'input channels'))


def differences(found: dict, target: dict) -> List[str]:
    """``['depth 18 vs 50', 'base width 16 vs 64', ...]`` (found vs
    target); the family alone when the families differ."""
    if found['family'] != target['family']:
        return [f'family {found["family"]} vs {target["family"]}']
    out = []
    for key, label in _FIELDS[1:]:
        a, b = found.get(key), target.get(key)
        if a != b and not (key == 'blocks' and found.get('depth')):
            out.append(f'{label} {a} vs {b}')
    return out


def mismatch_summary(state_dict: Mapping, reference: Mapping,
                     source: str = 'checkpoint') -> Optional[str]:
    """One line naming what differs between the backbone in ``state_dict``
    and the module whose state dict is ``reference``, e.g. ``'base width 16
    vs 64, stem width 16 vs 64 (checkpoint: ResNet-18 (...); module:
    ResNet-18 (...))'``; None when either is not a recognised backbone or
    the two look alike."""
    found, target = backbone_shape(state_dict), backbone_shape(reference)
    if found is None or target is None:
        return None
    diff = differences(found, target)
    if not diff:
        return None
    return (f'{", ".join(diff)} ({source}: {describe(found)}; module: '
            f'{describe(target)})')


def is_standard_resnet(shape: Optional[dict]) -> bool:
    """A ResNet of a preset's width (64) with a plain stem and 3 inputs."""
    return bool(shape) and shape['family'] == 'ResNet' and \
        shape['base_width'] == shape['stem_width'] == STANDARD_RESNET_WIDTH \
        and shape['stem'] == 'plain' and shape['in_channels'] == 3
