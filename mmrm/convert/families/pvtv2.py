"""PVTv2: mmpretrain-style or official-release weights -> mmdet's
``PyramidVisionTransformerV2``.

mmpretrain's and mmdet's keys are the same. The official PVT/PVTv2 release
(``patch_embed1.proj.weight``, ``block1.0.attn.q.weight``...) is translated
with mmdet's own ``pvt_convert``, which drops the classifier-side final
``norm.*``.
"""
import copy
from typing import Dict, List, Mapping, Optional, Tuple

from mmrm.utils.mmcv_ops import require_ops

from ..adapter import (BackboneAdapter, ReleaseLayout, compare_fields,
                       count_blocks)

_PVT = dict(type='PyramidVisionTransformerV2')
PRESETS = {
    'pvtv2-b0': dict(_PVT, embed_dims=32, num_layers=[2, 2, 2, 2]),
    'pvtv2-b1': dict(_PVT, embed_dims=64, num_layers=[2, 2, 2, 2]),
    'pvtv2-b2': dict(_PVT, embed_dims=64, num_layers=[3, 4, 6, 3]),
}
#: arguments that do not change parameters, left out of the target
IGNORED_ARGS = ('type', 'init_cfg', 'pretrained', 'out_indices', 'drop_rate',
                'attn_drop_rate', 'drop_path_rate', 'convert_weights')
FIELDS = (('embed_dims', 'embed dims'), ('depths', 'depths'),
          ('in_channels', 'input channels'))


def detect(state_dict: Mapping) -> bool:
    return any(k.startswith('layers.0.0.projection.') for k in state_dict)


def shape(state_dict: Mapping) -> Optional[dict]:
    """``{'family': 'PVTv2', 'embed_dims', 'depths', 'in_channels'}`` of an
    mmdet PVTv2 state dict, or None."""
    if 'layers.0.0.projection.weight' not in state_dict:
        return None
    stages = count_blocks(state_dict, r'layers\.(\d+)\.0\.projection\.')
    depths = [count_blocks(state_dict, rf'layers\.{i}\.1\.(\d+)\.')
              for i in range(stages)]
    dims = tuple(state_dict[f'layers.{i}.0.projection.weight'].shape[0]
                 for i in range(len(depths)))
    return dict(family='PVTv2', embed_dims=dims, depths=tuple(depths),
                in_channels=state_dict['layers.0.0.projection.weight']
                .shape[1])


def describe(state_dict: Mapping) -> str:
    facts = shape(state_dict)
    if facts is None:
        return 'PVTv2'
    return (f'PVTv2 (embed dims {facts["embed_dims"]}, depths '
            f'{facts["depths"]})')


def from_release(state_dict: Mapping) -> Tuple[Dict, List[str]]:
    require_ops("translating the official PVT layout uses mmdet's "
                "pvt_convert, and importing mmdet needs mmcv's compiled ops")
    from mmdet.models.backbones.pvt import pvt_convert
    return pvt_convert(state_dict), [
        k for k in state_dict if k.startswith('norm.')]


def build_targets(cfg: dict):
    from mmdet.models.backbones import PyramidVisionTransformerV2
    args = {k: copy.deepcopy(v) for k, v in cfg.items()
            if k not in IGNORED_ARGS}
    return [('mmdet.PyramidVisionTransformerV2',
             PyramidVisionTransformerV2(**args))]


ADAPTER = BackboneAdapter(
    family='pvtv2', label='PVTv2', types=('PyramidVisionTransformerV2', ),
    presets=PRESETS, detect=detect, describe=describe,
    resolve=lambda cfg, name: (cfg, name or cfg['type']),
    adapt=lambda state_dict, cfg, request: (state_dict, {}),
    build_targets=build_targets, shape=shape,
    compare=lambda found, target: compare_fields(found, target, FIELDS),
    release=ReleaseLayout(
        name='pvt-official',
        detect=lambda sd: any(k.startswith(('patch_embed1.', 'block1.'))
                              for k in sd),
        translate=from_release))
