# PVTv2-B1 baseline, mmdet's PyramidVisionTransformerV2 inside an mmpretrain
# classifier. Paper: Table 5 (numbers: metafile.yml).
# The paper does not give its PVTv2 recipe and its baseline is weaker than the
# PVTv2 paper's (78.7 % top-1 accuracy), so it did not use DeiT's heavy
# augmentation. Choice
# here: the same data pipeline as ResNet-50 (RandomResizedCrop, flip,
# ColorJitter, lighting), AdamW lr 5e-4 for 512 images, wd 0.05, stochastic
# depth 0.1, 5 warmup epochs + cosine, 300 epochs, AMP.
_base_ = [
    './_base_/imagenet_bs64_rm-aug.py',
    './_base_/sgd_lr0.2_300e_warmup5_cos.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmrm', 'mmdet.models'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmdet.PyramidVisionTransformerV2',
        embed_dims=64,
        num_layers=[2, 2, 2, 2],
        out_indices=(3, ),
        drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=5e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
