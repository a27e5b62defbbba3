# Official RM ImageNet schedule: SGD momentum 0.9, lr 0.2 for a total batch of
# 512 (8 GPUs x 64), weight decay 1e-4, 5 linear warmup epochs then cosine, 300
# epochs, mixed precision.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=295, by_epoch=True, begin=5, end=300),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=5)
val_cfg = dict()
test_cfg = dict()
# lr 0.2 is for 512 images per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=512)
