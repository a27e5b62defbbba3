# GFL + FPN, COCO 1x schedule.
# Backbone: PVTv2-B1 pretrained on ImageNet by mmrm; this
# file loads the *baseline* weights; the *_cutmix / *_rm configs beside it
# change only the checkpoint. mmdet's stock recipe, with the backbone and
# its optimizer swapped as mmdet's own PVT configs do.
# Paper: RecursiveMix, Table 7.
_base_ = 'mmdet::gfl/gfl_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# PVTv2-B1 = mmdet's PyramidVisionTransformerV2 with embed_dims=64 and
# num_layers=[2, 2, 2, 2] (the class defaults give B1's heads, MLP ratios and
# spatial-reduction ratios); stage outputs have 64/128/320/512 channels.
# convert_weights=False: mmrm's converted checkpoints already use mmdet's
# PVT key layout, so the official-repo key conversion must not run.
# StrictPyramidVisionTransformerV2 (registered by mmrm) is that class with
# the same arguments and keys, whose init_weights honours StrictPretrained:
# mmdet's own PVT loads any init_cfg checkpoint itself with strict=False.
model = dict(
    backbone=dict(
        _delete_=True,
        type='StrictPyramidVisionTransformerV2',
        embed_dims=64,
        num_layers=[2, 2, 2, 2],
        convert_weights=False,
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/pvtv2-b1_baseline_backbone.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))

# Optimizer of mmdet's own PVT configs (configs/pvt in mmdet).
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=0.0001, weight_decay=0.0001))
