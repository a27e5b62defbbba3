# CPU demo: Fashion-MNIST + RecursiveMix (alpha 0.5, omega 0.1 as the paper's
# small-image recipes).
_base_ = ['./resnet18-w16_1xb128-3e_fmnist-64px.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(neck=None, head=dict(_base_.rm_head, omega=0.1))
