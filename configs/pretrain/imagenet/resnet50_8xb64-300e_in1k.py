# ResNet-50 baseline: the official RM recipe, no mixing.
# Paper: Table 5 (numbers: metafile.yml).
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    './_base_/imagenet_bs64_rm-aug.py',
    './_base_/sgd_lr0.2_300e_warmup5_cos.py',
    'mmpretrain::_base_/default_runtime.py',
]
