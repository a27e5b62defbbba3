# GFL + FPN: the recipe of
# gfl_r50-baseline_fpn_1x_coco.py,
# initialised from the cutmix backbone.
_base_ = './gfl_r50-baseline_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/resnet50_cutmix_backbone.pth')))
