# CIFAR-100 200-epoch recipe of the RM paper (Sec. 4.1; Tables 2-4):
# 2 GPUs x 64 images (total 128), SGD momentum 0.9, lr 0.1, weight decay 5e-4,
# 5 linear warmup epochs, cosine decay to 0.
# Stepped per epoch as the official code: epoch e = 1..5 runs at lr * e / 6
# (LinearLR start_factor 1/6, end=6: mmengine reaches the full lr at the last
# step of its window), epoch e > 5 at lr * (1 + cos((e - 1) pi / 200)) / 2,
# i.e. the cosine spans all 200 epochs (CosineAnnealingLR from epoch 0; during
# warmup both factors apply, which lowers those 5 epochs by < 0.1 %).
# Data: mmpretrain's CIFAR-100 pipeline (RandomCrop 32 pad 4 + h-flip).
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=64, num_workers=4)
val_dataloader = dict(batch_size=128, num_workers=4)
test_dataloader = dict(batch_size=128, num_workers=4)
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1 / 6, by_epoch=True, begin=0, end=6),
    dict(type='CosineAnnealingLR', T_max=200, eta_min=0, by_epoch=True,
         begin=0, end=200),
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.1 is for 128 images per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=128)

# The paper reports the best epoch (averaged over 3 runs): keep the best
# checkpoint besides the latest ones.
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2,
                    save_best='auto'))
