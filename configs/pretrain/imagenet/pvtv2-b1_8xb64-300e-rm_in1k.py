# PVTv2-B1 + RecursiveMix (alpha 0.5, omega 0.5), paper Table 5: 77.78 top-1.
_base_ = ['./pvtv2-b1_8xb64-300e_in1k.py', '../_base_/rm.py']
data_preprocessor = _base_.rm_data_preprocessor
model = dict(
    neck=None,
    head=dict(_base_.rm_head, num_classes=1000, in_channels=512, omega=0.5))
custom_hooks = _base_.rm_custom_hooks
