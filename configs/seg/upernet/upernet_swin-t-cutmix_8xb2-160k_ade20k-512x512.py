# UperNet, ADE20K 512x512, 160k iterations: the recipe of
# upernet_swin-t-baseline_8xb2-160k_ade20k-512x512.py, initialised from the
# cutmix Swin-T backbone. mmrm's extension beyond the RecursiveMix paper.
_base_ = './upernet_swin-t-baseline_8xb2-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/swin-tiny_cutmix_backbone.pth')))
