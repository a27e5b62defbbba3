# ResNet-50 + RecursiveMix (alpha 0.5, omega 0.5).
# Paper: Tables 4 (default row) and 5 (numbers: metafile.yml).
_base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(neck=None, head=_base_.rm_head)
