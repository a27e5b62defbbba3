# PSPNet, ADE20K 512x512, 80k iterations: mmseg's stock recipe (SGD lr 0.01,
# 4 GPUs x 4 images) on mmrm's ResNet-50 (../../_base_/mmrm_backbones.py),
# *baseline* weights; the -cutmix / -rm configs beside it change only the
# checkpoint.
# Paper: RecursiveMix, Table 9 (numbers: metafile.yml).
_base_ = [
    'mmseg::pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py',
    '../../_base_/mmrm_backbones.py'
]

model = _base_.mmseg_resnet50_model  # plain ResNet-50, not ResNetV1c
