# DeiT-Small, ImageNet-1k, 300 epochs -- mmrm's extension beyond the
# RecursiveMix paper (no paper numbers). Baseline: mmpretrain's own recipe
# (deit/deit-small_4xb256_in1k: RandAugment + RandomErasing, Mixup 0.8 +
# CutMix 1.0 batch augments, label smoothing 0.1, AdamW lr 1e-3 for 1024
# images, wd 0.05, 20 warm-up epochs + cosine, grad clip 5), with two changes
# shared by the -cutmix and -rm variants so that the three differ only in
# the batch mixing:
# - the classifier reads the average of the patch tokens (out_type='featmap'
#   + GlobalAveragePooling), not the class token: RecursiveMixHead's main
#   branch is fc(GAP(token grid)) and its RoI is cut from the same grid, so
#   the deployed RM model IS this classifier (see docs/transformers.md);
# - mixed precision (AmpOptimWrapper), as every mmrm ImageNet config.
_base_ = 'mmpretrain::deit/deit-small_4xb256_in1k.py'
model = dict(
    backbone=dict(out_type='featmap'),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=1000,
        in_channels=384,
        init_cfg=None,  # the model's TruncNormal(0.02) init, as for Swin
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')))
optim_wrapper = dict(type='AmpOptimWrapper')
