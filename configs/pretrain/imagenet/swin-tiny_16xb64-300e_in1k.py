# Swin-Tiny, ImageNet-1k, 300 epochs -- mmrm's extension beyond the
# RecursiveMix paper (no paper numbers). Baseline: mmpretrain's own recipe
# (swin_transformer/swin-tiny_16xb64_in1k: RandAugment + RandomErasing,
# Mixup 0.8 + CutMix 1.0 batch augments, label smoothing 0.1, stochastic
# depth 0.2, AdamW lr 1e-3 for 1024 images, wd 0.05, 20 warm-up epochs +
# cosine, grad clip 5), in mixed precision as every mmrm ImageNet config.
_base_ = 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py'
optim_wrapper = dict(type='AmpOptimWrapper')
