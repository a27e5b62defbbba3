# ATSS + FPN: the recipe of
# atss_pvtv2-b1_fpn_1x_coco_baseline.py,
# initialised from the rm backbone.
_base_ = './atss_pvtv2-b1_fpn_1x_coco_baseline.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/pvtv2-b1_rm_backbone.pth')))
