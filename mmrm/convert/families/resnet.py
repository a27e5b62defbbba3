"""ResNet: mmpretrain / torchvision / official RecursiveMix weights ->
mmdet's and mmseg's ResNet.

Target types: ``ResNet`` (torchvision-style stem ``conv1``/``bn1``),
``ResNetV1c`` (deep stem), ``ResNetV1d`` (deep stem + average-pool
downsampling). The weights are checked against **both** mmdet's and mmseg's
ResNet built with the same shape arguments (:data:`SHAPE_ARGS`). The keys
are the same in every library except mmpretrain's deep stem
(``stem.i.conv``/``stem.i.bn``), which becomes mmdet/mmseg's sequential one
(``stem.3i``/``stem.3i+1``).
"""
import copy
import re
from typing import Dict, List, Mapping, Optional, Tuple

from ..adapter import BackboneAdapter, Request, compare_fields, count_blocks
from ..errors import DeepStemError, WrongBackboneError, format_keys

PRESETS = {f'resnet{d}': dict(type='ResNet', depth=d)
           for d in (18, 34, 50, 101)}
#: type -> the arguments it implies
TYPES = {'ResNet': {}, 'ResNetV1c': dict(deep_stem=True),
         'ResNetV1d': dict(deep_stem=True, avg_down=True)}
#: arguments that decide which parameters exist and their shapes
SHAPE_ARGS = ('depth', 'in_channels', 'stem_channels', 'base_channels',
              'num_stages', 'deep_stem', 'avg_down', 'conv_cfg', 'norm_cfg')
#: depth -> blocks per stage
BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3),
          101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
#: (blocks per stage, block type) -> depth
DEPTHS = {(blocks, 'Bottleneck' if depth >= 50 else 'BasicBlock'): depth
          for depth, blocks in BLOCKS.items()}
#: base (and stem) width of the standard ResNets, i.e. of the presets
STANDARD_WIDTH = 64
#: compared facts of :func:`shape`, in the order a reader checks them
FIELDS = (('depth', 'depth'), ('block', 'block type'),
          ('blocks', 'blocks per stage'), ('base_width', 'base width'),
          ('stem', 'stem'), ('stem_width', 'stem width'),
          ('in_channels', 'input channels'))


def detect(state_dict: Mapping) -> bool:
    has_stem = 'conv1.weight' in state_dict or any(
        k.startswith('stem.') for k in state_dict)
    return has_stem and any(k.startswith('layer1.') for k in state_dict)


def stage_blocks(state_dict: Mapping) -> Tuple[int, ...]:
    """Blocks per stage (``layer1.*``, ``layer2.*``, ...)."""
    blocks: List[int] = []
    while True:
        n = count_blocks(state_dict, rf'layer{len(blocks) + 1}\.(\d+)\.')
        if not n:
            return tuple(blocks)
        blocks.append(n)


def _shape_of(v) -> tuple:
    return tuple(getattr(v, 'shape', ()))


def shape(state_dict: Mapping) -> Optional[dict]:
    """``{'family': 'ResNet', 'depth', 'blocks', 'block', 'base_width',
    'stem_width', 'stem', 'in_channels'}`` (torchvision / mmpretrain /
    mmdet / mmseg keys), or None when the keys are not a ResNet's."""
    if 'layer1.0.conv1.weight' not in state_dict:
        return None
    blocks = stage_blocks(state_dict)
    block = 'Bottleneck' if 'layer1.0.conv3.weight' in state_dict \
        else 'BasicBlock'
    stem_convs = sorted(
        (int(m.group(1)), k) for k in state_dict
        for m in [re.match(r'stem\.(\d+)\.(conv\.)?weight$', k)]
        if m and len(_shape_of(state_dict[k])) == 4)
    if stem_convs:
        first = state_dict[stem_convs[0][1]]
        last = state_dict[stem_convs[-1][1]]
        stem = 'deep'
    elif 'conv1.weight' in state_dict:
        first = last = state_dict['conv1.weight']
        stem = 'plain'
    else:
        return None
    return dict(family='ResNet', depth=DEPTHS.get((blocks, block)),
                blocks=blocks, block=block,
                base_width=_shape_of(state_dict['layer1.0.conv1.weight'])[0],
                stem_width=_shape_of(last)[0], stem=stem,
                in_channels=_shape_of(first)[1])


def describe_shape(facts: Optional[dict]) -> str:
    """``'ResNet-18 (BasicBlock, blocks (2, 2, 2, 2), base width 16, plain
    stem of width 16)'``."""
    if facts is None:
        return 'an unrecognised ResNet'
    name = f'ResNet-{facts["depth"]}' if facts['depth'] else 'ResNet'
    return (f'{name} ({facts["block"]}, blocks {facts["blocks"]}, base '
            f'width {facts["base_width"]}, {facts["stem"]} stem of width '
            f'{facts["stem_width"]})')


def compare(found: dict, target: dict) -> List[str]:
    """Blocks per stage only when the depth does not already say it."""
    return compare_fields(found, target, FIELDS,
                          skip=('blocks', ) if found.get('depth') else ())


def resolve(cfg: dict, name: Optional[str]) -> Tuple[dict, str]:
    for k, v in TYPES[cfg['type']].items():
        cfg.setdefault(k, v)
    if cfg.get('depth') not in BLOCKS:
        raise WrongBackboneError(
            f'unsupported ResNet depth {cfg.get("depth")!r}; supported: '
            f'{sorted(BLOCKS)}')
    if cfg.get('expansion') not in (None, 1 if cfg['depth'] < 50 else 4):
        raise WrongBackboneError(
            f'ResNet with expansion={cfg["expansion"]} has no mmdet/mmseg '
            f'counterpart')
    return cfg, name or f'{cfg["type"]}-{cfg["depth"]}'


def adapt(state_dict: Dict, cfg: dict, request: Request):
    """Check the stem layout against the target and translate mmpretrain's
    deep stem to mmdet/mmseg's.

    Raises:
        DeepStemError: deep-stem checkpoint for a plain target or vice versa.
    """
    source = request.source
    ckpt_deep = any(k.startswith('stem.') for k in state_dict)
    target_deep = bool(cfg.get('deep_stem', False))
    if ckpt_deep and not target_deep:
        stem_keys = [k for k in state_dict if k.startswith('stem.')]
        convs = [k for k in stem_keys if k.endswith('conv.weight')]
        raise DeepStemError(
            f'{source} holds a ResNetV1c/V1d deep-stem backbone (keys '
            f'{format_keys(convs or stem_keys, 4)}), but the target is a '
            f'plain ResNet (conv1/bn1 stem, as the paper uses downstream). '
            f'Pretrain with type=ResNet, or convert for backbone type '
            f'ResNetV1c/ResNetV1d.')
    if target_deep and not ckpt_deep:
        raise DeepStemError(
            f'{source} holds a plain-stem ResNet (conv1.weight), but the '
            f'target {cfg["type"]} has a deep stem (stem.*); use '
            f'type=ResNet for the target.')
    if not ckpt_deep:
        return state_dict, {}
    out = type(state_dict)()
    for k, v in state_dict.items():
        m = re.match(r'stem\.(\d+)\.(conv|bn)\.(.+)$', k)
        if m:
            i, part, rest = int(m.group(1)), m.group(2), m.group(3)
            k = f'stem.{3 * i + (part == "bn")}.{rest}'
        out[k] = v
    return out, {}


def build_targets(cfg: dict):
    from mmdet.models.backbones import ResNet as DetResNet
    from mmseg.models.backbones import ResNet as SegResNet
    args = {k: copy.deepcopy(cfg[k]) for k in SHAPE_ARGS if k in cfg}
    args.setdefault('stem_channels', args.get('base_channels', 64))
    return [('mmdet.ResNet', DetResNet(**args)),
            ('mmseg.ResNet', SegResNet(**args))]


def is_standard(facts: Optional[dict]) -> bool:
    """A ResNet of a preset's width (64) with a plain stem and 3 inputs."""
    return bool(facts) and facts['family'] == 'ResNet' and \
        facts['base_width'] == facts['stem_width'] == STANDARD_WIDTH \
        and facts['stem'] == 'plain' and facts['in_channels'] == 3


#: each preset as :func:`resolve` completes it (for :func:`hint`)
_RESOLVED = {k: resolve(copy.deepcopy(v), k)[0] for k, v in PRESETS.items()}


def hint(state_dict: Mapping, cfg: dict) -> Optional[str]:
    """How to name the target that fits the checkpoint: the preset of its
    depth for a standard one (None if that is the target already), else its
    pretraining config."""
    facts = shape(state_dict)
    preset = [k for k, v in PRESETS.items()
              if v['depth'] == (facts and facts['depth'])]
    if is_standard(facts) and preset:
        if _RESOLVED[preset[0]] == cfg:
            return None
        return f'the checkpoint fits --backbone {preset[0]}'
    return ('the checkpoint is not a standard-width ResNet (the presets have '
            'base and stem width 64): take the target from its pretraining '
            'config with --backbone-config PRETRAIN_CONFIG (Python: '
            'backbone=Config.fromfile(PRETRAIN_CONFIG).model.backbone)')


ADAPTER = BackboneAdapter(
    family='resnet', label='ResNet', types=tuple(TYPES), presets=PRESETS,
    detect=detect, describe=lambda sd: describe_shape(shape(sd)),
    resolve=resolve, adapt=adapt, build_targets=build_targets, shape=shape,
    compare=compare, hint=hint)
