# Mask R-CNN + FPN, COCO 1x: mmdet's Swin-T recipe
# (swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco: AdamW lr 1e-4, wd 0.05, steps at
# 8 and 11) with the backbone weights from mmrm's Swin-T ImageNet
# pretraining; this file loads the *baseline* (stock Mixup + CutMix)
# weights, the -cutmix / -rm configs beside it change only the checkpoint.
# mmrm's extension beyond the RecursiveMix paper (no paper numbers).
# Convert: tools/model_converters/convert_checkpoint.py
#   work_dirs/swin-tiny_16xb64-300e_in1k/epoch_300.pth
#   checkpoints/swin-tiny_baseline_backbone.pth --backbone swin-tiny
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# StrictSwinTransformer (registered by mmrm) = mmdet's SwinTransformer whose
# init_weights honours StrictPretrained (the parent loads any checkpoint
# itself with strict=False). convert_weights=False: the converted file is
# already in mmdet's layout (stock: True, for the official Swin release).
model = dict(
    backbone=dict(
        type='StrictSwinTransformer',
        convert_weights=False,
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/swin-tiny_baseline_backbone.pth')))
