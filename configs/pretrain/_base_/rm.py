# RecursiveMix building blocks, merged into a classifier config by reference
# (they are prefixed `rm_` so that they never collide with the model's base):
#
#   _base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/rm.py']
#   custom_imports = _base_.rm_custom_imports
#   data_preprocessor = _base_.rm_data_preprocessor
#   model = dict(neck=None, head=dict(_base_.rm_head, num_classes=1000, in_channels=2048))
#   custom_hooks = _base_.rm_custom_hooks
#
# RM data preprocessor: pastes the previous mixed batch into a random box
# (alpha 0.5). RM head: classifier + RoIAlign consistency loss on the last
# stage (so no pooling neck), omega 0.5 for ImageNet. The hook clears the
# history at each epoch start and checks that preprocessor and head match.
rm_custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)
rm_data_preprocessor = dict(
    type='RecursiveMixDataPreprocessor', alpha=0.5, interpolation='nearest',
    reset_each_epoch=True)
rm_head = dict(
    _delete_=True,
    type='RecursiveMixHead',
    omega=0.5,
    share_fc=False,
    legacy_transposed_roi=False,
    loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True))
rm_custom_hooks = [dict(type='RecursiveMixHistoryHook')]
