# UperNet, ADE20K 512x512, 80k iterations, with the optimizer of the official
# RecursiveMix run (its released log): AdamW lr 1e-4, weight decay 1e-4,
# poly decay (power 0.9) to 0, no warm-up, 8 GPUs x 2 images.
# Backbone: PVTv2-B1 pretrained on ImageNet by mmrm; this
# file loads the *baseline* weights; the *_cutmix / *_rm configs beside it
# change only the checkpoint. Paper: RecursiveMix, Table 9.
_base_ = 'mmseg::upernet/upernet_r50_4xb4-80k_ade20k-512x512.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# mmseg has no PVTv2: the backbone comes from mmdet's registry.
# PVTv2-B1 = mmdet's PyramidVisionTransformerV2 with embed_dims=64 and
# num_layers=[2, 2, 2, 2] (the class defaults give B1's heads, MLP ratios and
# spatial-reduction ratios); stage outputs have 64/128/320/512 channels.
# convert_weights=False: mmrm's converted checkpoints already use mmdet's
# PVT key layout, so the official-repo key conversion must not run.
# StrictPyramidVisionTransformerV2 (registered by mmrm) is that class with
# the same arguments and keys, whose init_weights honours StrictPretrained:
# mmdet's own PVT loads any init_cfg checkpoint itself with strict=False.
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmdet.StrictPyramidVisionTransformerV2',
        embed_dims=64,
        num_layers=[2, 2, 2, 2],
        convert_weights=False,
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/pvtv2-b1_baseline_backbone.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
    auxiliary_head=dict(in_channels=320))

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
