# UperNet, ADE20K 512x512, 80k iterations, on mmrm's PVTv2-B1 (*baseline*
# weights): the ResNet-50 config (optimizer of the official RecursiveMix run)
# with the backbone swapped (block: ../../_base_/mmrm_backbones.py). The
# -cutmix / -rm configs beside it change only the checkpoint.
# Paper: RecursiveMix, Table 9 (numbers: metafile.yml).
_base_ = './upernet_r50-baseline_8xb2-80k_ade20k-512x512.py'

model = dict(
    backbone=dict(_base_.pvtv2_b1, _delete_=True),
    decode_head=dict(in_channels=_base_.pvtv2_b1_channels),
    auxiliary_head=dict(in_channels=_base_.pvtv2_b1_channels[2]))
