# HTC + FPN with the semantic branch, COCO 1x schedule.
# Needs the COCO-stuff maps in data/coco/stuffthingmaps/train2017/
# (see docs/downstream.md); without them use htc-without-semantic_*.
# mmdet's stock recipe on mmrm's ResNet-50 (../../_base_/mmrm_backbones.py),
# *baseline* weights; the -cutmix / -rm configs beside it change only the
# checkpoint.
# Paper: RecursiveMix, Table 8 (numbers: metafile.yml).
_base_ = [
    'mmdet::htc/htc_r50_fpn_1x_coco.py',
    '../../_base_/mmrm_backbones.py'
]

model = dict(backbone=dict(init_cfg=_base_.resnet50_init_cfg))
