# ResNet-50 + CutMix (alpha 1.0, prob 1.0), paper Table 5.
_base_ = './resnet50_8xb64-300e_in1k.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)),
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
