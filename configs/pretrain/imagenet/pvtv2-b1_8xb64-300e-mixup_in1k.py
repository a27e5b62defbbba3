# PVTv2-B1 + Mixup (alpha 1.0).
# Paper: Table 5 (numbers: metafile.yml).
_base_ = ['./pvtv2-b1_8xb64-300e_in1k.py', '../_base_/mixup_cutmix.py']
model = _base_.mixup_model
