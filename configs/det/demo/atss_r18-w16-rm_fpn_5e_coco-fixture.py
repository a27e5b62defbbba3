# CPU demo of the fine-tuning stage: ATSS on the tiny COCO-format fixture
# (tests/data/coco_fixture: 3 training / 2 validation images, classes
# `nucleus` and `animal`), from the small ResNet-18 (16 base channels, plain
# 7x7 stem) pretrained on Fashion-MNIST by
# configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py
# and converted to a backbone-only checkpoint. Point it at your converted checkpoint with
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
# Not a paper recipe: small images, narrow neck and head, 10 iterations.
_base_ = 'mmdet::atss/atss_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

data_root = 'tests/data/coco_fixture/'
metainfo = dict(classes=('nucleus', 'animal'))
img_scale = (320, 256)
backbone_checkpoint = 'checkpoints/resnet18-w16_rm_backbone.pth'

model = dict(
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        init_cfg=dict(type='StrictPretrained',
                      checkpoint=backbone_checkpoint)),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    bbox_head=dict(
        num_classes=2, in_channels=64, feat_channels=64, stacked_convs=2),
    # after a few iterations the scores are still near the head's prior
    # (0.01), below the stock 0.05: keep them so that COCO mAP is computed
    test_cfg=dict(score_thr=0.001, max_per_img=50))

# the stock pipelines, resized to the fixture's size
train_pipeline = [dict(t, scale=img_scale) if t.type == 'Resize' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t.type == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
# the same, one image per batch, test pipeline
val_dataloader = dict(
    train_dataloader,
    batch_size=1,
    dataset=dict(train_dataloader['dataset'], pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

# 3 images / batch 2 = 2 iterations per epoch.
train_cfg = dict(max_epochs=5, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4)
]
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=5))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
