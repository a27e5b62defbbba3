# ATSS + FPN: the recipe of
# atss_r50-baseline_fpn_1x_coco.py,
# initialised from the rm backbone.
_base_ = './atss_r50-baseline_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/resnet50_rm_backbone.pth')))
