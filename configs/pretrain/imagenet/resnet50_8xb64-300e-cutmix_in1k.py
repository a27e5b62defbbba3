# ResNet-50 + CutMix (alpha 1.0, prob 1.0).
# Paper: Table 5 (numbers: metafile.yml).
_base_ = ['./resnet50_8xb64-300e_in1k.py', '../_base_/mixup_cutmix.py']
model = _base_.cutmix_model
