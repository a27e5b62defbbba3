# Mixup and CutMix (mmpretrain's batch augments, alpha 1.0 as the paper
# cites; CutMix on every batch, as the official RM code's `cutmix`), mixed
# into a classifier config beside its baseline:
#
#   _base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/mixup_cutmix.py']
#   model = _base_.mixup_model  # or _base_.cutmix_model
#
# Both merge into the baseline's model; its cross-entropy takes the mixed
# (soft) labels. Named blocks, as in rm.py: a base may only add keys that its
# sibling base lacks.
mixup_model = dict(
    head=dict(loss=dict(use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
cutmix_model = dict(
    mixup_model, train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
