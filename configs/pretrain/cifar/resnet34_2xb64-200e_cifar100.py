# ResNet-34 (CIFAR stem: mmpretrain ResNet_CIFAR) baseline, CIFAR-100, 200
# epochs: the ResNet-18 config with depth 34.
# Paper: Table 3 (numbers: metafile.yml).
_base_ = './resnet18_2xb64-200e_cifar100.py'
model = dict(backbone=dict(depth=34))
