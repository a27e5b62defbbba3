# DenseNet-161 (CIFAR stem: mmrm DenseNet_CIFAR) + RecursiveMix (alpha 0.5,
# omega 0.1), CIFAR-100, 200 epochs.
# Paper Table 3: 15.54% top-1 error.
_base_ = ['./densenet161_2xb64-200e_cifar100.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(
    neck=None,
    head=dict(_base_.rm_head, num_classes=100, in_channels=2208,
              omega=0.1, topk=(1, 5)))
custom_hooks = _base_.rm_custom_hooks
