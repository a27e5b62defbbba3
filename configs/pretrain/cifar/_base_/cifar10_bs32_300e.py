# CIFAR-10 300-epoch recipe of the RM paper (Sec. 4.1, Tables 1 and 4),
# "aligned with the official CutMix": SGD with Nesterov momentum 0.9, lr 0.25,
# weight decay 1e-4, lr x0.1 at epochs 150 and 225.
#
# Total batch 64 = 2 GPUs x 32. The official command passes `--batch_size 64`
# to 2 processes and its main.py divides it by the number of GPUs; its
# published CIFAR-10 RM logs show 782 iterations per epoch (= 25000 / 32 per
# rank), and CutMix's PyramidNet recipe is 64 images per step at lr 0.25.
# The official RM log also shows 5 warmup epochs (cifar_common.py).
_base_ = ['mmpretrain::_base_/datasets/cifar10_bs16.py', './cifar_common.py']

model = dict(head=dict(num_classes=10))
train_dataloader = dict(batch_size=32, num_workers=4)
val_dataloader = test_dataloader = dict(batch_size=128, num_workers=4)
val_evaluator = test_evaluator = dict(type='Accuracy', topk=(1, 5))

optim_wrapper = dict(
    optimizer=dict(lr=0.25, weight_decay=1e-4, nesterov=True))
param_scheduler = [
    _base_.cifar_warmup,
    dict(type='MultiStepLR', milestones=[150, 225], gamma=0.1, by_epoch=True,
         begin=0, end=300),
]
train_cfg = dict(max_epochs=300)
# lr 0.25 is for 64 images per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=64)
