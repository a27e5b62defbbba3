# RecursiveMix, mixed into a classifier config beside its baseline:
#
#   _base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/rm.py']
#   custom_imports = _base_.rm_custom_imports  # if the baseline lacks it
#   data_preprocessor = _base_.rm_data_preprocessor
#   model = dict(neck=None, head=_base_.rm_head)  # dict(..., omega=0.1)
#
# A base may only add keys that its sibling base lacks, so the parts that
# change keys of the baseline are named `rm_*` blocks (they stay in the merged
# config, unused by the runner); `custom_hooks` is set here directly.
#
# Data preprocessor: pastes the previous mixed batch into a random box (alpha
# 0.5), merged into the baseline's (mean, std, num_classes). Head: classifier
# + RoIAlign consistency loss on the last stage's feature map (hence no
# pooling neck), merged into the baseline's head (num_classes, in_channels,
# topk; its cross-entropy takes the mixed, soft labels); omega 0.5 as on
# ImageNet, the small-image recipes set 0.1. The hook clears the history at
# each epoch start (reset_each_epoch=True) and checks that preprocessor and
# head match; the preprocessor stops a training step that runs without it.
rm_custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)
rm_data_preprocessor = dict(
    type='RecursiveMixDataPreprocessor', alpha=0.5, interpolation='nearest')
rm_head = dict(
    type='RecursiveMixHead',
    omega=0.5,
    share_fc=False,
    legacy_transposed_roi=False,
    loss=dict(use_soft=True))
# Transformer recipes (DeiT, Swin; mmrm's extension): the head merges into
# the baseline's and keeps its loss (label smoothing takes the soft labels as
# they are); the configs add the backbone's stride (`feat_stride`) and drop
# the stock Mixup/CutMix batch augments (`model.train_cfg=None`).
rm_transformer_head = dict(rm_head, loss=dict())
custom_hooks = [dict(type='RecursiveMixHistoryHook', reset_each_epoch=True)]
