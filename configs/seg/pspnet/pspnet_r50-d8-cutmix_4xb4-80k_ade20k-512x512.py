# PSPNet, ADE20K 512x512, 80k iterations: the recipe of
# pspnet_r50-d8-baseline_4xb4-80k_ade20k-512x512.py,
# initialised from the cutmix backbone.
_base_ = './pspnet_r50-d8-baseline_4xb4-80k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/resnet50_cutmix_backbone.pth')))
