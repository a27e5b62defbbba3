# ATSS + FPN: the recipe of
# atss_pvtv2-b1-baseline_fpn_1x_coco.py,
# initialised from the cutmix backbone.
_base_ = './atss_pvtv2-b1-baseline_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/pvtv2-b1_cutmix_backbone.pth')))
