# UperNet + multi-level neck, ADE20K 512x512, 160k iterations: the recipe of
# upernet_deit-s-baseline_mln_8xb2-160k_ade20k-512x512.py, initialised from
# the cutmix DeiT-S backbone. mmrm's extension beyond the RecursiveMix paper.
_base_ = './upernet_deit-s-baseline_mln_8xb2-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='checkpoints/deit-small-512px_cutmix_backbone.pth')))
