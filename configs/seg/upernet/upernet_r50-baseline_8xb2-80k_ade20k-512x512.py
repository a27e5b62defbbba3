# UperNet, ADE20K 512x512, 80k iterations, with the optimizer of the official
# RecursiveMix run (its released log): AdamW lr 1e-4, weight decay 1e-4,
# poly decay (power 0.9) to 0, no warm-up, 8 GPUs x 2 images.
# Backbone: ResNet-50 pretrained on ImageNet by mmrm; this
# file loads the *baseline* weights; the *_cutmix / *_rm configs beside it
# change only the checkpoint. Paper: RecursiveMix, Table 9.
_base_ = 'mmseg::upernet/upernet_r50_4xb4-80k_ade20k-512x512.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# Plain ResNet (torchvision stem), not mmseg's default ResNetV1c: the
# pretrained backbone has a single 7x7 stem conv. `pretrained=None` drops
# the stock open-mmlab://resnet50_v1c weights.
model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/resnet50_baseline_backbone.pth')))

optimizer = dict(
    _delete_=True, type='AdamW', lr=0.0001, weight_decay=0.0001)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=80000,
        by_epoch=False)
]
train_dataloader = dict(batch_size=2)
# total batch 16 = 8 GPUs x 2 (stock: 4 x 4, also 16)
