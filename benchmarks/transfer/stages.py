"""Stages of the transfer benchmark (``python -m benchmarks.transfer.run``):
the scenes, one pretraining + conversion, one fine-tuning cell; each leaves
a ``result.json`` that later runs skip (bookkeeping at the top).

A pretraining is identified by (method, epochs, training images, seed); a
cell by (task, init, pretraining seed, fine-tuning seed), the pretraining
seed being None for random init."""
import contextlib
import functools
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Optional

from mmengine.hooks import Hook

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
METHODS = ('baseline', 'cutmix', 'rm')
INITS = ('random', ) + METHODS
PRETRAIN_CONFIGS = {
    m: osp.join(REPO, 'configs', 'pretrain', 'fashion_mnist',
                'resnet18-w16_1xb128-3e{}_fmnist-64px.py'.format(
                    '' if m == 'baseline' else '-' + m))
    for m in METHODS
}
_CONFIGS = osp.join('configs', 'transfer')
TASKS = {  # task -> (config, {metric name in results.json: logged key})
    'atss': (osp.join(_CONFIGS, 'atss_r18-w16_fpn_500i_fmnist-scenes.py'),
             {'bbox_mAP': 'coco/bbox_mAP'}),
    'gfl': (osp.join(_CONFIGS, 'gfl_r18-w16_fpn_500i_fmnist-scenes.py'),
            {'bbox_mAP': 'coco/bbox_mAP'}),
    'mask_rcnn': (osp.join(_CONFIGS,
                           'mask-rcnn_r18-w16_fpn_500i_fmnist-scenes.py'),
                  {'bbox_mAP': 'coco/bbox_mAP', 'segm_mAP': 'coco/segm_mAP'}),
    'htc': (osp.join(_CONFIGS, 'htc_r18-w16_fpn_500i_fmnist-scenes.py'),
            {'bbox_mAP': 'coco/bbox_mAP', 'segm_mAP': 'coco/segm_mAP'}),
    'pspnet': (osp.join(
        _CONFIGS, 'pspnet_r18-w16-d8_1xb8-1000i_fmnist-scenes-128x128.py'),
        {'mIoU': 'mIoU'}),
    'upernet': (osp.join(
        _CONFIGS, 'upernet_r18-w16_1xb8-1000i_fmnist-scenes-128x128.py'),
        {'mIoU': 'mIoU'}),
}
TASK_NAMES = {'atss': 'ATSS', 'gfl': 'GFL', 'mask_rcnn': 'Mask R-CNN',
              'htc': 'HTC', 'pspnet': 'PSPNet', 'upernet': 'UperNet'}
METRIC_NAMES = {'bbox_mAP': 'box AP', 'segm_mAP': 'mask AP', 'mIoU': 'mIoU'}
SEG_TASKS = ('pspnet', 'upernet')  # mmseg logs mIoU in percent



def column_name(task: str, metric: str) -> str:
    """A table column's (and a chart panel's) name, e.g. 'ATSS box AP'."""
    return f'{TASK_NAMES[task]} {METRIC_NAMES[metric]}'


def log(msg: str) -> None:
    print(f'[transfer] {msg}', flush=True)


# ------------------------------------------------------------- bookkeeping
def read_done(path: str, preset: dict):
    """The ``result.json`` at ``path`` if it was made with ``preset`` (None
    when missing; ValueError when made with another)."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        done = json.load(f)
    if done.get('preset') != preset:
        raise ValueError(f'{path} was made with another preset '
                         f'({done.get("preset")}); use another --work-root')
    return done


def write_done(path: str, result: dict) -> dict:
    with open(path + '.tmp', 'w') as f:
        json.dump(result, f, indent=1)
    os.replace(path + '.tmp', path)  # never a half-written result
    return result


@contextlib.contextmanager
def timed_log(path: str, threads: int):
    """Send stdout/stderr to ``path``; yield a dict that receives the wall
    and CPU seconds of the block (CPU: all threads of this process)."""
    import torch
    if threads:
        torch.set_num_threads(threads)
    os.makedirs(osp.dirname(path), exist_ok=True)
    clock = {}
    start, cpu = time.time(), time.process_time()
    with open(path, 'a') as f, contextlib.redirect_stdout(f), \
            contextlib.redirect_stderr(f):
        yield clock
    clock.update(seconds=time.time() - start,
                 cpu_seconds=time.process_time() - cpu)


# ------------------------------------------------------------------ names
def seed_rows(p: dict) -> list:
    """Every seed of a preset, in order (a task may use a subset)."""
    return sorted({s for seeds in p['seeds'].values() for s in seeds})



def pretrain_name(method: str, seed: int, q: dict) -> str:
    """``rm_20e-10k_seed3``: method, epochs, training images, seed."""
    return (f'{method}_{q["epochs"]}e-{q["train_size"] // 1000}k_'
            f'seed{seed}')


def backbone_file(work_root: str, method: str, seed: int, q: dict) -> str:
    return osp.join(work_root, 'checkpoints',
                    f'resnet18-w16_{pretrain_name(method, seed, q)}'
                    '_backbone.pth')


def cell_name(task: str, init: str, pseed: Optional[int], fseed: int) -> str:
    """``atss_rm_p3_f3``; random init has no pretraining seed
    (``atss_random_f3``)."""
    p = '' if pseed is None else f'_p{pseed}'
    return f'{task}_{init}{p}_f{fseed}'


# ------------------------------------------------------------------ stages
def make_data(p: dict, root: str, fmnist: str, work_root: str) -> dict:
    """Generate the scenes (skipped when ``root`` holds them already); the
    time of the generation that made them is kept in WORK_ROOT/data.json."""
    from mmrm.datasets.fmnist_scenes import make_scenes
    start, cpu = time.time(), time.process_time()
    params = make_scenes(root, fmnist_root=fmnist, **p['scenes'])
    path = osp.join(work_root, 'data.json')
    if time.time() - start > 1 or not osp.isfile(path):
        os.makedirs(work_root, exist_ok=True)
        write_done(path, dict(params=params, root=root,
                              seconds=time.time() - start,
                              cpu_seconds=time.process_time() - cpu))
    with open(path) as f:
        return json.load(f)


def convert(checkpoint: str, backbone: str, config: str, log_file: str):
    """The converter's command line (as a user runs it), strict."""
    os.makedirs(osp.dirname(backbone), exist_ok=True)
    with open(log_file, 'w') as f:
        rc = subprocess.run(
            [sys.executable, osp.join(REPO, 'tools', 'model_converters',
                                      'convert_checkpoint.py'),
             checkpoint, backbone, '--backbone-config', config],
            stdout=f, stderr=subprocess.STDOUT, cwd=REPO).returncode
    if rc != 0:
        raise RuntimeError(f'conversion of {checkpoint} failed: see '
                           f'{log_file}')


def pretrain(method: str, seed: int, q: dict, work_root: str, fmnist: str,
             threads: int) -> dict:
    """Pretrain one method with one seed (the seed draws the initial weights,
    the data order and the mixing) and convert its backbone; skipped when
    done. Returns its result (top-1, times, converted checkpoint)."""
    name = pretrain_name(method, seed, q)
    work_dir = osp.join(work_root, 'pretrain', name)
    done = read_done(osp.join(work_dir, 'result.json'), q)
    if done:
        return dict(done, skipped=True)
    from mmrm import apis
    from mmrm.report import last_metric
    epochs = q['epochs']
    options = {
        'train_dataloader.dataset.indices': q['train_size'],
        'train_cfg.max_epochs': epochs, 'train_cfg.val_interval': epochs,
        # the configs' schedule shape: 1 warm-up epoch, then cosine
        'param_scheduler.1.end': epochs, 'param_scheduler.1.T_max': epochs - 1,
        'randomness.seed': seed, 'default_hooks.logger.interval': 20,
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options.update({f'{loader}.num_workers': 0,
                        f'{loader}.persistent_workers': False,
                        f'{loader}.dataset.data_root': fmnist})
    if q['val_size']:
        options['val_dataloader.dataset.indices'] = q['val_size']
    with timed_log(osp.join(work_dir, 'pretrain.log'), threads) as clock:
        apis.train(apis.build_cfg(PRETRAIN_CONFIGS[method], work_dir=work_dir,
                                  cfg_options=options))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    backbone = backbone_file(work_root, method, seed, q)
    start, child_cpu = time.time(), _children_cpu()
    convert(checkpoint, backbone, PRETRAIN_CONFIGS[method],
            osp.join(work_dir, 'convert.log'))
    return write_done(osp.join(work_dir, 'result.json'), dict(
        method=method, seed=seed, preset=q,
        top1=last_metric(work_dir, 'accuracy/top1'),
        seconds=clock['seconds'], cpu_seconds=clock['cpu_seconds'],
        convert_seconds=time.time() - start,
        convert_cpu_seconds=_children_cpu() - child_cpu,
        checkpoint=checkpoint, backbone=backbone))


def _children_cpu() -> float:
    """CPU seconds of this process' finished children (the converter)."""
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cell_config(task: str, init: str, pseed: Optional[int], fseed: int,
                p: dict, work_root: str, data_root: str,
                stage: str = 'train'):
    """The task's transfer config for one cell: its init (the converted
    backbone of pretraining seed ``pseed``, or ``init_cfg=None``), its
    fine-tuning seed, data root and work dir; no validation during training
    (the test stage evaluates)."""
    from mmrm import apis
    options = dict(p['finetune'].get(task, {}))
    options['randomness'] = dict(seed=fseed)
    options['model.backbone.init_cfg'] = None if init == 'random' else dict(
        type='StrictPretrained',
        checkpoint=backbone_file(work_root, init, pseed, p['pretrain']))
    name = cell_name(task, init, pseed, fseed)
    options['experiment_name'] = f'{name}_{stage}'  # a logger per stage
    work_dir = osp.join(work_root, 'finetune', name)
    cfg = apis.build_cfg(osp.join(REPO, TASKS[task][0]), work_dir=work_dir,
                         cfg_options=options)
    configured = cfg.test_dataloader.dataset.data_root
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    for name in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[name]:  # COCO metric: the same file, moved
            cfg[name].ann_file = osp.join(
                data_root, osp.relpath(cfg[name].ann_file, configured))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    loop = cfg.train_cfg
    loop.val_interval = loop.get('max_epochs', loop.get('max_iters')) + 1
    return cfg


# The merged config's keys that mmengine's Runner reads (``Runner.from_cfg``)
# plus the imports they need: what decides a cell's training and evaluation.
RUNNER_KEYS = ('model', 'data_preprocessor', 'train_dataloader',
               'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg',
               'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
               'val_evaluator', 'test_evaluator', 'default_hooks',
               'custom_hooks', 'load_from', 'resume', 'env_cfg',
               'log_processor', 'log_level', 'visualizer', 'default_scope',
               'randomness', 'custom_imports')


def _drop_default_scope(x, scope):
    """``x`` without the ``_scope_`` tags that name the default scope
    (mmengine adds them to what a config takes from ``mmdet::``/``mmseg::``;
    they resolve in the same registry as no tag)."""
    if isinstance(x, dict):
        return {k: _drop_default_scope(v, scope) for k, v in x.items()
                if not (k == '_scope_' and v == scope)}
    if isinstance(x, (list, tuple)):
        return [_drop_default_scope(v, scope) for v in x]
    return x


@functools.lru_cache(maxsize=None)
def config_digest(task: str) -> str:
    """sha1 of what the Runner reads from the task's merged config (every
    file it inherits from, mmdet's and mmseg's included): a cell fine-tuned
    with another config is not taken as done, while renaming or moving a
    helper variable between the config files does not void finished cells.
    (Once per task and process: merging a config takes seconds.)"""
    import hashlib

    from mmengine.config import Config

    from mmrm.apis.quiet import known_harmless_warnings_filtered
    with known_harmless_warnings_filtered():  # mmdet::/mmseg:: inheritance
        cfg = Config.fromfile(osp.join(REPO, TASKS[task][0])).to_dict()
    used = _drop_default_scope({k: cfg[k] for k in RUNNER_KEYS if k in cfg},
                               cfg.get('default_scope'))
    text = json.dumps(used, sort_keys=True, default=repr)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def percent(task: str, metrics: dict) -> dict:
    """The task's metrics in percent: mmdet's COCO metric logs fractions
    (0.281 = 28.1 AP), mmseg's IoU metric logs percent already. mmdet's
    COCO metric returns nothing when no box scores above the threshold: that
    is an AP of 0."""
    keys = TASKS[task][1]
    if task not in SEG_TASKS and not metrics:
        return {name: 0.0 for name in keys}
    scale = 1.0 if task in SEG_TASKS else 100.0
    return {name: scale * float(metrics[key]) for name, key in keys.items()}


class StartCheck(Hook):
    """Records whether the backbone the training starts from holds exactly
    the tensors of the converted checkpoint that ``init_cfg`` names
    (``equal``: True / False; None for a random init)."""
    priority = 'VERY_LOW'  # after the weights are initialised

    def __init__(self, init_cfg):
        self.checkpoint = (init_cfg or {}).get('checkpoint')
        self.equal = None

    def before_train(self, runner):
        if self.checkpoint is None:
            return
        import torch
        model = getattr(runner.model, 'module', runner.model)
        have = model.backbone.state_dict()
        want = torch.load(self.checkpoint, map_location='cpu',
                          weights_only=True)['state_dict']
        self.equal = set(have) == set(want) and all(
            torch.equal(have[k].cpu(), v) for k, v in want.items())


def cell_signature(task: str, init: str, p: dict) -> dict:
    """What a finished cell must have been made with to count."""
    return dict(scenes=p['scenes'], finetune=p['finetune'].get(task, {}),
                pretrain=None if init == 'random' else p['pretrain'],
                configs=config_digest(task))


def finetune(task: str, init: str, pseed: Optional[int], fseed: int,
             p: dict, work_root: str, data_root: str, threads: int) -> dict:
    """Fine-tune and evaluate one cell; skipped when done."""
    work_dir = osp.join(work_root, 'finetune',
                        cell_name(task, init, pseed, fseed))
    signature = cell_signature(task, init, p)
    done = read_done(osp.join(work_dir, 'result.json'), signature)
    if done:
        return dict(done, skipped=True)
    from mmrm import apis
    cfg = cell_config(task, init, pseed, fseed, p, work_root, data_root)
    check = StartCheck(cfg.model.backbone.init_cfg)
    with timed_log(osp.join(work_dir, 'finetune.log'), threads) as train:
        runner = apis.train(cfg, extra_hooks=[check])
        iters = runner.iter
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    with timed_log(osp.join(work_dir, 'test.log'), threads) as test:
        metrics = apis.test(cell_config(task, init, pseed, fseed, p,
                                        work_root, data_root, 'test'),
                            checkpoint)
    return write_done(osp.join(work_dir, 'result.json'), dict(
        task=task, init=init, pretrain_seed=pseed, finetune_seed=fseed,
        preset=signature, metrics=percent(task, metrics),
        logged={k: float(v) for k, v in metrics.items()}, iters=iters,
        seconds=train['seconds'] + test['seconds'],
        cpu_seconds=train['cpu_seconds'] + test['cpu_seconds'],
        train_seconds=train['seconds'], test_seconds=test['seconds'],
        backbone_equals_converted=check.equal, checkpoint=checkpoint))
