# DenseNet-121 (CIFAR stem: mmrm DenseNet_CIFAR) baseline, CIFAR-100, 200
# epochs. Paper: Table 3 (numbers: metafile.yml).
_base_ = './_base_/cifar100_bs64_200e.py'
model = dict(
    backbone=dict(type='DenseNet_CIFAR', arch='121'),
    head=dict(in_channels=1024))
