# DenseNet-161 (CIFAR stem: mmrm DenseNet_CIFAR) + CutMix, CIFAR-100, 200
# epochs.
# Paper: Table 3 (numbers: metafile.yml).
_base_ = ['./densenet161_2xb64-200e_cifar100.py', '../_base_/mixup_cutmix.py']
model = _base_.cutmix_model
