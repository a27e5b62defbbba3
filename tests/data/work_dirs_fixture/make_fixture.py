"""Re-create the recorded mmengine run folders under ``runs/`` here.

    .venv/bin/python tests/data/work_dirs_fixture/make_fixture.py

Every run is a real (tiny, CPU, a few seconds) mmengine ``Runner`` job, so the
files are written by mmengine's own ``LoggerHook`` / ``LocalVisBackend``:
``<stem>/<timestamp>/vis_data/scalars.json`` (train + val JSON lines),
``vis_data/<timestamp>.json`` and, for a ``runner.test()``, the
``<timestamp>/<timestamp>.json`` of tools/test.py. Only the evaluator is
scripted: it returns chosen values under the metric names that mmpretrain
(``accuracy/top1``, percent), mmdet (``coco/bbox_mAP``, fraction, 3 decimals)
and mmseg (``mIoU``, percent, 2 decimals) log, so that the tests know the
numbers to expect. Runs given a ``config`` get mmengine's config dumps
(``<run>/<name>.py`` and ``vis_data/config.py``) of a config with that name
and ``train_cfg``; checkpoints, the other dumps and text logs are deleted.
"""
import glob
import os
import os.path as osp
import shutil
import time

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.model import BaseModel
from mmengine.runner import Runner

HERE = osp.dirname(osp.abspath(__file__))
# `runs`, not `work_dirs`: the project's .gitignore ignores work_dirs/
WORK_DIRS = osp.join(HERE, 'runs')


class ToyModel(BaseModel):
    """y = w * x, with an MSE loss; enough to drive mmengine's loops."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((out - labels)**2).mean())
        if mode == 'predict':
            return [dict(pred=o) for o in out]
        return out


class ScriptedMetric(BaseMetric):
    """Returns ``values[k]`` at its k-th evaluation (keys get the prefix)."""

    def __init__(self, values, prefix=None):
        super().__init__(prefix=prefix)
        self.values = list(values)
        self.calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        values = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        return dict(values)


def _loader():
    data = [dict(inputs=torch.tensor([float(i)]),
                 labels=torch.tensor([2.0 * i])) for i in range(4)]
    return dict(dataset=data, batch_size=2, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'))


KEEP_DUMPS = set()  # run folders whose config dumps are part of the fixture


def run(stem, values, prefix=None, epochs=None, iters=None, val_every=1,
        test_values=None, config=None):
    """One training run (and optionally one test run) in ``runs/<stem>``.

    ``values``: the metrics of the successive validations; ``[]`` trains
    without a validation loop, ``None`` skips training. ``config``:
    ``(name, train_cfg)`` of the config the run's dumps claim.
    """
    work_dir = osp.join(WORK_DIRS, stem)
    if epochs is not None:
        train_cfg = dict(by_epoch=True, max_epochs=epochs,
                         val_interval=val_every)
        log_by_epoch = True
    else:
        train_cfg = dict(by_epoch=False, max_iters=iters,
                         val_interval=val_every)
        log_by_epoch = False
    common = dict(
        model=ToyModel(), work_dir=work_dir,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1,
                        log_metric_by_epoch=log_by_epoch),
            checkpoint=dict(type='CheckpointHook', interval=10**6,
                            save_last=False)),
        log_processor=dict(by_epoch=log_by_epoch),
        randomness=dict(seed=0), default_scope='mmengine')
    if config is not None:
        name, planned = config
        common['cfg'] = Config(dict(train_cfg=planned),
                               cfg_text='# fixture\n',
                               filename=f'configs/{name}.py')
        KEEP_DUMPS.add(work_dir)
    if values is not None:
        val = dict(val_dataloader=_loader(), val_cfg=dict(),
                   val_evaluator=Evaluator(ScriptedMetric(values, prefix)))
        runner = Runner(
            train_dataloader=_loader(), train_cfg=train_cfg,
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            **(val if values else {}), **common)
        runner.train()
        time.sleep(1.1)  # a new timestamp folder for the next runner
    if test_values is not None:
        common['model'] = ToyModel()
        runner = Runner(test_dataloader=_loader(), test_cfg=dict(),
                        test_evaluator=Evaluator(
                            ScriptedMetric([test_values], prefix)),
                        **common)
        runner.test()
        time.sleep(1.1)


def main():
    shutil.rmtree(WORK_DIRS, ignore_errors=True)
    cls = 'accuracy'
    # ImageNet ResNet-50 baseline, trained in two sessions (a resume): the
    # last evaluation is in the second timestamp folder.
    run('resnet50_8xb64-300e_in1k',
        [dict(top1=70.0, top5=90.0), dict(top1=75.8, top5=92.7)], cls,
        epochs=2)
    run('resnet50_8xb64-300e_in1k', [dict(top1=76.5, top5=93.0)], cls,
        epochs=1)
    # ImageNet ResNet-50 + RM: best (epoch 2) differs from last (epoch 3).
    run('resnet50_8xb64-300e-rm_in1k',
        [dict(top1=78.9, top5=94.3), dict(top1=79.35, top5=94.6),
         dict(top1=79.1, top5=94.5)], cls, epochs=3)
    # A run that never evaluated (killed early): training lines only.
    run('pvtv2-b1_8xb64-300e-rm_in1k', [], cls, epochs=1)
    # CIFAR-10 PyramidNet-200 + RM.
    run('pyramidnet200-a240_2xb32-300e-rm_cifar10',
        [dict(top1=97.1, top5=99.9), dict(top1=97.58, top5=99.95)], cls,
        epochs=2)
    # COCO ATSS (mmdet logs fractions).
    box = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s',
           'bbox_mAP_m', 'bbox_mAP_l')
    run('fixture_atss_r50-rm_fpn_1x_coco',
        [dict(zip(box, (0.389, 0.571, 0.42, 0.22, 0.43, 0.5))),
         dict(zip(box, (0.412, 0.597, 0.449, 0.245, 0.452, 0.534)))],
        'coco', epochs=2)
    # COCO Mask R-CNN: one validation, then tools/test.py (the last).
    segm = tuple(k.replace('bbox', 'segm') for k in box)
    run('fixture_mask-rcnn_r50-rm_fpn_1x_coco',
        [dict(zip(box + segm, (0.395, 0.601, 0.43, 0.2, 0.4, 0.5, 0.356,
                               0.571, 0.381, 0.15, 0.38, 0.52)))],
        'coco', epochs=1,
        test_values=dict(zip(box + segm, (0.398, 0.606, 0.433, 0.2, 0.4, 0.5,
                                          0.355, 0.571, 0.38, 0.15, 0.38,
                                          0.52))))
    # ADE20K UperNet: iteration-based, evaluations at iterations 2 and 4.
    run('fixture_upernet_r50-rm_512x512-80k_ade20k',
        [dict(aAcc=79.5, mIoU=40.11, mAcc=50.2),
         dict(aAcc=80.2, mIoU=42.05, mAcc=52.9)], None, iters=4, val_every=2)
    # Runs the report must not put in a paper table:
    # ImageNet ResNet-50 + CutMix stopped after 2 of the 300 epochs its
    # config plans (unfinished);
    run('resnet50_8xb64-300e-cutmix_in1k',
        [dict(top1=77.0, top5=93.1), dict(top1=77.5, top5=93.4)], cls,
        epochs=2, config=('resnet50_8xb64-300e-cutmix_in1k',
                          dict(by_epoch=True, max_epochs=300,
                               val_interval=1)))
    # a run of the CPU demo (`make demo`: work_dirs/demo/<config stem>);
    run('demo/resnet18-w16_1xb128-3e-rm_fmnist-64px',
        [dict(top1=85.2)], cls, epochs=1,
        config=('resnet18-w16_1xb128-3e-rm_fmnist-64px',
                dict(by_epoch=True, max_epochs=1, val_interval=1)))
    # a run of a config the project does not have.
    run('my_experiment', [dict(top1=50.0)], cls, epochs=1,
        config=('my_resnet', dict(by_epoch=True, max_epochs=1,
                                  val_interval=1)))

    for path in glob.glob(osp.join(WORK_DIRS, '**', '*.pth'), recursive=True):
        os.remove(path)
    for path in glob.glob(osp.join(WORK_DIRS, '**', 'last_checkpoint'),
                          recursive=True):
        os.remove(path)
    # text logs (with the machine's environment) and, but for KEEP_DUMPS,
    # config dumps of the toy runs
    for path in glob.glob(osp.join(WORK_DIRS, '**', '*.log'), recursive=True):
        os.remove(path)
    for path in glob.glob(osp.join(WORK_DIRS, '**', '*.py'), recursive=True):
        run_dir = osp.dirname(path)
        if osp.basename(path) == 'config.py':  # <run>/<ts>/vis_data/
            run_dir = osp.dirname(osp.dirname(run_dir))
        if run_dir not in KEEP_DUMPS:
            os.remove(path)


if __name__ == '__main__':
    main()
