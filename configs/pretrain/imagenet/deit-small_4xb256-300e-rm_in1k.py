# DeiT-Small + RecursiveMix instead of the stock Mixup/CutMix pair;
# otherwise deit-small_4xb256-300e_in1k.py (label smoothing kept). mmrm's
# extension beyond the RecursiveMix paper (no paper numbers).
# alpha 0.5, omega 0.5: the paper's ImageNet values (ResNet-50 and its one
# transformer, PVTv2-B1), not tuned for DeiT. The RM head reads the patch
# tokens as a 14x14 grid (stride 16 = patch size; class token excluded).
_base_ = ['./deit-small_4xb256-300e_in1k.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(
    neck=None, head=dict(_base_.rm_transformer_head, feat_stride=16),
    train_cfg=None)  # RM is the batch mixing: no Mixup/CutMix
