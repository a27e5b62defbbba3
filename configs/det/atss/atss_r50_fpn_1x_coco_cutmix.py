# ATSS + FPN: the recipe of
# atss_r50_fpn_1x_coco_baseline.py,
# initialised from the cutmix backbone.
_base_ = './atss_r50_fpn_1x_coco_baseline.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/resnet50_cutmix_backbone.pth')))
