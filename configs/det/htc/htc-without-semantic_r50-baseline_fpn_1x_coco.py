# HTC + FPN without the semantic branch, COCO 1x schedule.
# Needs no stuff maps. Not a row of the paper (its HTC numbers are
# with the semantic branch: htc_*_fpn_1x_coco.py).
# mmdet's stock recipe on mmrm's ResNet-50 (../../_base_/mmrm_backbones.py),
# *baseline* weights; the -cutmix / -rm configs beside it change only the
# checkpoint.
_base_ = [
    'mmdet::htc/htc-without-semantic_r50_fpn_1x_coco.py',
    '../../_base_/mmrm_backbones.py'
]

model = dict(backbone=dict(init_cfg=_base_.resnet50_init_cfg))
