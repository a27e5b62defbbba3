# HTC + FPN with the semantic branch, COCO 1x schedule, on mmrm's PVTv2-B1
# (*baseline* weights): the ResNet-50 config with backbone and optimizer
# swapped as mmdet's own PVT configs do (blocks:
# ../../_base_/mmrm_backbones.py). The -cutmix / -rm configs beside it
# change only the checkpoint.
# Paper: RecursiveMix, Table 8 (numbers: metafile.yml).
_base_ = './htc_r50-baseline_fpn_1x_coco.py'

model = _base_.mmdet_pvtv2_b1_model
optim_wrapper = _base_.mmdet_pvtv2_b1_optim_wrapper
