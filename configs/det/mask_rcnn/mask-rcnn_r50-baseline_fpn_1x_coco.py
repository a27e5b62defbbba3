# Mask R-CNN + FPN, COCO 1x schedule.
# Backbone: ResNet-50 pretrained on ImageNet by mmrm; this
# file loads the *baseline* weights; the *_cutmix / *_rm configs beside it
# change only the checkpoint. Everything else is mmdet's stock recipe.
# Paper: RecursiveMix, Table 8.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# The converted checkpoint holds a plain (torchvision-style) ResNet-50.
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/resnet50_baseline_backbone.pth')))
