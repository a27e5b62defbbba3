# PVTv2-B1 + RecursiveMix (alpha 0.5, omega 0.5).
# Paper: Table 5 (numbers: metafile.yml).
_base_ = ['./pvtv2-b1_8xb64-300e_in1k.py', '../_base_/rm.py']
data_preprocessor = _base_.rm_data_preprocessor
model = dict(neck=None, head=_base_.rm_head)
