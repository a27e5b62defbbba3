# PSPNet, ADE20K 512x512, 80k iterations, mmseg's stock recipe (SGD lr 0.01,
# 4 GPUs x 4 images); only the backbone differs.
# Backbone: ResNet-50 pretrained on ImageNet by mmrm; this
# file loads the *baseline* weights; the *_cutmix / *_rm configs beside it
# change only the checkpoint. Paper: RecursiveMix, Table 9.
_base_ = 'mmseg::pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py'

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
