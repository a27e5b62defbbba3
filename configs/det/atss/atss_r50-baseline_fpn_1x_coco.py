# ATSS + FPN, COCO 1x schedule.
# mmdet's stock recipe on mmrm's ResNet-50 (../../_base_/mmrm_backbones.py),
# *baseline* weights; the -cutmix / -rm configs beside it change only the
# checkpoint.
# Paper: RecursiveMix, Table 7 (numbers: metafile.yml).
_base_ = [
    'mmdet::atss/atss_r50_fpn_1x_coco.py',
    '../../_base_/mmrm_backbones.py'
]

model = dict(backbone=dict(init_cfg=_base_.resnet50_init_cfg))
