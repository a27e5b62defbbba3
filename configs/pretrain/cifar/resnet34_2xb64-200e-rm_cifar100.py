# ResNet-34 (CIFAR stem: mmpretrain ResNet_CIFAR) + RecursiveMix (alpha 0.5,
# omega 0.1), CIFAR-100, 200 epochs.
# Paper: Table 3 (numbers: metafile.yml).
_base_ = ['./resnet34_2xb64-200e_cifar100.py', '../_base_/rm.py']
data_preprocessor = _base_.rm_data_preprocessor
model = dict(neck=None, head=dict(_base_.rm_head, omega=0.1))
