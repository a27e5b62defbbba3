# ResNet-50 + RecursiveMix (alpha 0.5, omega 0.5), paper Table 5: 79.20 top-1.
_base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(
    neck=None,
    head=dict(_base_.rm_head, num_classes=1000, in_channels=2048, omega=0.5))
custom_hooks = _base_.rm_custom_hooks
