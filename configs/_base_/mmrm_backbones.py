# Backbones pretrained on ImageNet by mmrm (configs/pretrain/imagenet),
# converted to backbone-only files by
# tools/model_converters/convert_checkpoint.py, as building blocks of the
# mmdet / mmseg fine-tuning configs. A ResNet-50 config inherits this file
# beside its stock `mmdet::` / `mmseg::` base and uses the blocks as
# `_base_.<name>`; its PVTv2-B1 sibling inherits that config and swaps the
# backbone. (A base may only add keys that its sibling base lacks, hence named
# blocks: they stay in the merged config, unused by the runner.)
custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# StrictPretrained (registered by mmrm) loads the converted file strictly: a
# missing, unexpected or mis-shaped key stops the run before the first
# iteration. These are the *baseline* weights; the -cutmix / -rm configs
# change only `checkpoint`.
resnet50_init_cfg = dict(
    type='StrictPretrained',
    checkpoint='checkpoints/resnet50_baseline_backbone.pth')
# The ResNet-50 is a plain torchvision-style one (single 7x7 stem conv), so
# mmseg configs take `type='ResNet'` instead of their stock ResNetV1c (deep
# stem) and `pretrained=None` (no stock open-mmlab://resnet50_v1c weights).
mmseg_resnet50_model = dict(
    pretrained=None, backbone=dict(type='ResNet', init_cfg=resnet50_init_cfg))

# PVTv2-B1 = mmdet's PyramidVisionTransformerV2 with embed_dims=64 and
# num_layers=[2, 2, 2, 2] (the class defaults give B1's heads, MLP ratios and
# spatial-reduction ratios); its stages give `pvtv2_b1_channels`.
# convert_weights=False: mmrm's converted checkpoints already use mmdet's PVT
# key layout, so the official-repo key conversion must not run.
# StrictPyramidVisionTransformerV2 (registered by mmrm into mmdet) is that
# class with the same arguments and keys, whose init_weights honours
# StrictPretrained: mmdet's own PVT loads any init_cfg checkpoint itself with
# strict=False. The `mmdet.` scope lets mmseg (which has no PVTv2) build it.
pvtv2_b1 = dict(
    type='mmdet.StrictPyramidVisionTransformerV2',
    embed_dims=64,
    num_layers=[2, 2, 2, 2],
    convert_weights=False,
    init_cfg=dict(
        type='StrictPretrained',
        checkpoint='checkpoints/pvtv2-b1_baseline_backbone.pth'))
pvtv2_b1_channels = [64, 128, 320, 512]
# mmdet configs swap the ResNet-50 of an FPN detector for PVTv2-B1 as
# mmdet's own PVT configs do (configs/pvt in mmdet): backbone, FPN input
# widths and their optimizer (the paper gives none).
mmdet_pvtv2_b1_model = dict(
    backbone=dict(pvtv2_b1, _delete_=True),
    neck=dict(in_channels=pvtv2_b1_channels))
mmdet_pvtv2_b1_optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=0.0001,
                   weight_decay=0.0001))
