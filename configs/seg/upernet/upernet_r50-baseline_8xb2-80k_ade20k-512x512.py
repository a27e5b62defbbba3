# UperNet, ADE20K 512x512, 80k iterations, with the optimizer of the official
# RecursiveMix run (its released log): AdamW lr 1e-4, weight decay 1e-4,
# poly decay (power 0.9) to 0, no warm-up, 8 GPUs x 2 images; on mmrm's
# ResNet-50 (../../_base_/mmrm_backbones.py), *baseline* weights; the
# -cutmix / -rm configs beside it change only the checkpoint.
# Paper: RecursiveMix, Table 9 (numbers: metafile.yml).
_base_ = [
    'mmseg::upernet/upernet_r50_4xb4-80k_ade20k-512x512.py',
    '../../_base_/mmrm_backbones.py'
]

model = _base_.mmseg_resnet50_model  # plain ResNet-50, not ResNetV1c

optimizer = dict(
    _delete_=True, type='AdamW', lr=0.0001, weight_decay=0.0001)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=80000,
        by_epoch=False)
]
train_dataloader = dict(batch_size=2)
# total batch 16 = 8 GPUs x 2 (stock: 4 x 4, also 16)
