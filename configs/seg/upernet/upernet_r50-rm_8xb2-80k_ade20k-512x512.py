# UperNet, ADE20K 512x512, 80k iterations: the recipe of
# upernet_r50-baseline_8xb2-80k_ade20k-512x512.py,
# initialised from the rm backbone.
_base_ = './upernet_r50-baseline_8xb2-80k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/resnet50_rm_backbone.pth')))
