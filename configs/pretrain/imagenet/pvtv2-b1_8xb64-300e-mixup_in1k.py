# PVTv2-B1 + Mixup (alpha 1.0), paper Table 5.
_base_ = './pvtv2-b1_8xb64-300e_in1k.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
