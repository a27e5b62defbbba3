# Mask R-CNN + FPN: the recipe of
# mask-rcnn_pvtv2-b1_fpn_1x_coco_baseline.py,
# initialised from the cutmix backbone.
_base_ = './mask-rcnn_pvtv2-b1_fpn_1x_coco_baseline.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/pvtv2-b1_cutmix_backbone.pth')))
