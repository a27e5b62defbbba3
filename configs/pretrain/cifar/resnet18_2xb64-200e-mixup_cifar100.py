# ResNet-18 (CIFAR stem: mmpretrain ResNet_CIFAR) + Mixup (alpha 1.0),
# CIFAR-100, 200 epochs.
# Paper: Table 3 (numbers: metafile.yml).
_base_ = ['./resnet18_2xb64-200e_cifar100.py', '../_base_/mixup_cutmix.py']
model = _base_.mixup_model
