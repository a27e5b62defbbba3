# Mask R-CNN + FPN, COCO 1x: the recipe of
# mask-rcnn_swin-t-baseline_fpn_1x_coco.py, initialised from the cutmix
# Swin-T backbone. mmrm's extension beyond the RecursiveMix paper.
_base_ = './mask-rcnn_swin-t-baseline_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/swin-tiny_cutmix_backbone.pth')))
