# Swin-Tiny + RecursiveMix instead of the stock Mixup/CutMix pair; otherwise
# swin-tiny_16xb64-300e_in1k.py (label smoothing kept). mmrm's extension
# beyond the RecursiveMix paper (no paper numbers).
# alpha 0.5, omega 0.5: the paper's ImageNet values (ResNet-50 and its one
# transformer, PVTv2-B1), not tuned for Swin. The RM head reads the last
# stage (7x7 at 224, stride 32) in place of the stock GAP neck + fc.
_base_ = ['./swin-tiny_16xb64-300e_in1k.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(
    neck=None, head=dict(_base_.rm_transformer_head, feat_stride=32),
    train_cfg=None)  # RM is the batch mixing: no Mixup/CutMix
