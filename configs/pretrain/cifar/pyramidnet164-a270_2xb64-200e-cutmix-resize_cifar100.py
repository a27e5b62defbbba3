# Ablation (paper Table 2, "RS", CIFAR-100): CutMix with RM's resize strategy
# and no history -- the pasted patch is a *whole* other image of the current
# batch, resized into the box, instead of the same-position crop of CutMix.
# Numbers: metafile.yml.
#
# This is mmpretrain's own `ResizeMix` batch augment. Its lam (the weight of
# the unpasted image) is lam_min + Beta(alpha, alpha) * (lam_max - lam_min),
# the box covers 1 - lam of the image and lam is recomputed from the clipped
# box.
# With alpha 1.0, lam_min 0 and lam_max 1 the pasted area is U(0, 1), CutMix's
# own distribution (Beta(1, 1)), so only the cut -> resize step changes.
# Differences to RM's resize, all inherent to ResizeMix:
# * the partner is a random permutation of the current batch, not history;
# * the resize is bilinear (align_corners=False): ResizeMix always passes
#   align_corners to F.interpolate, which torch rejects for 'nearest';
# * no consistency loss (plain linear head), as in the paper's "RS" row.
_base_ = './pyramidnet164-a270_2xb64-200e-cutmix_cifar100.py'
model = dict(
    train_cfg=dict(
        augments=dict(
            _delete_=True, type='ResizeMix', alpha=1.0, lam_min=0.0,
            lam_max=1.0, interpolation='bilinear')))
