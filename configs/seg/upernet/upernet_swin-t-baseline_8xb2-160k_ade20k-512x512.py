# UperNet, ADE20K 512x512, 160k iterations: mmseg's Swin-T recipe
# (swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512:
# AdamW lr 6e-5, wd 0.01, 1500 warm-up iterations + poly, 8 GPUs x 2 images)
# with the backbone weights from mmrm's Swin-T ImageNet pretraining; this
# file loads the *baseline* (stock Mixup + CutMix) weights, the -cutmix / -rm
# configs beside it change only the checkpoint. mmrm's extension beyond the
# RecursiveMix paper (no paper numbers). The converted Swin-T file is the
# one Mask R-CNN loads (verified against mmdet's and mmseg's Swin).
_base_ = 'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'  # noqa

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# StrictSwinTransformer (registered by mmrm) = mmseg's SwinTransformer whose
# init_weights honours StrictPretrained (the parent loads any checkpoint
# itself with strict=False).
model = dict(
    backbone=dict(
        type='StrictSwinTransformer',
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/swin-tiny_baseline_backbone.pth')))
