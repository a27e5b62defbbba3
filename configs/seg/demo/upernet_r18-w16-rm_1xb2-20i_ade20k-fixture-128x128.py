# CPU demo of the fine-tuning stage: UperNet on the tiny ADE20K-format fixture
# (tests/data/ade_fixture: 2 training / 2 validation images, ADE20K's 150
# classes, of which `tree` and `animal` occur), from the small ResNet-18 (16
# base channels, plain 7x7 stem) pretrained on Fashion-MNIST by
# configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py
# and converted to a backbone-only checkpoint. Point it at your converted checkpoint with
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
# The paper's UperNet config (plain ResNet, StrictPretrained, optimizer of the
# official run: AdamW 1e-4, poly to 0) on a CPU budget; not a paper recipe:
# 128x128 crops, narrow heads, BN, 20 iterations.
_base_ = '../upernet/upernet_r50-baseline_8xb2-80k_ade20k-512x512.py'

data_root = 'tests/data/ade_fixture'
crop_size = (128, 128)
img_scale = (256, 128)
max_iters = 20
backbone_checkpoint = 'checkpoints/resnet18-w16_rm_backbone.pth'
norm_cfg = dict(type='BN', requires_grad=True)

model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        norm_cfg=norm_cfg,
        init_cfg=dict(checkpoint=backbone_checkpoint)),
    decode_head=dict(
        in_channels=[16, 32, 64, 128], channels=64, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=32, norm_cfg=norm_cfg))

# the stock ADE20K pipelines at the fixture's scale and crop size
train_pipeline = [
    dict(t, scale=img_scale) if t.type == 'RandomResize' else
    dict(t, crop_size=crop_size) if t.type == 'RandomCrop' else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=img_scale) if t.type == 'Resize' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
# the same, one image per batch, test pipeline
val_dataloader = dict(
    train_dataloader,
    batch_size=1,
    dataset=dict(train_dataloader['dataset'], pipeline=test_pipeline))
test_dataloader = val_dataloader
# IoUMetric's numbers; the per-class table lists the ground-truth classes
val_evaluator = dict(type='PresentClassIoUMetric')
test_evaluator = val_evaluator

param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=max_iters))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
