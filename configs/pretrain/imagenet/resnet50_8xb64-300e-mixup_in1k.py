# ResNet-50 + Mixup (alpha 1.0, as the paper cites).
# Paper: Table 5 (numbers: metafile.yml).
_base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/mixup_cutmix.py']
model = _base_.mixup_model
