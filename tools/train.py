"""Train with any config of mmpretrain, mmdet, mmseg or mmrm (mmengine Runner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm]

The config's ``default_scope`` (mmpretrain / mmdet / mmseg) selects the
registries; ``mmrm`` is imported first so that RM components and the
``StrictPretrained`` initializer are available to all of them. Outputs go to
``work_dirs/<config name>/`` unless ``--work-dir`` or the config says
otherwise. ``--resume`` (no value) resumes from the latest checkpoint of the
work dir, ``--resume PATH`` from PATH; mmengine's checkpoint types are
allow-listed so that torch's weights-only loading accepts them. Without CUDA a
distributed launch uses the gloo backend (see mmrm/convert/runtime.py).
Before training, missing/empty dataset paths, annotations naming missing
images, and a ``--resume``/``load_from`` checkpoint that is unreadable or does
not match the model stop the run (mmrm/convert/preflight.py;
``--allow-partial-load`` accepts a partial match as mmengine does).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402

from mmrm.convert.preflight import preflight  # noqa: E402
from mmrm.convert.runtime import (build_runner, default_work_dir,  # noqa: E402
                                  prepare_process, setup_cpu_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a model (mmpretrain/mmdet/mmseg/mmrm config)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or (no value) from the latest checkpoint in '
        'the work dir')
    parser.add_argument(
        '--allow-partial-load', action='store_true',
        help='accept a --resume/load_from checkpoint whose keys or shapes '
        'differ from the model (mmengine loads the matching part); by '
        'default such a checkpoint stops the run')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (CUDA)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by actual/base batch size')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, key=value (e.g. '
        'train_cfg.max_epochs=1 "model.backbone.init_cfg.checkpoint=x.pth")')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args) -> Config:
    """Config from file + command line."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('[train] AMP is already enabled in the config',
                  file=sys.stderr)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        asl = cfg.get('auto_scale_lr', None)
        if not asl or 'base_batch_size' not in asl:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.'
                               'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume: no such checkpoint: '
                                    f'{args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    prepare_process()
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg)
    # dataset paths/files and the resume/load_from checkpoint, before any
    # step (mmrm/convert/preflight.py)
    preflight(runner, cfg, allow_partial_load=args.allow_partial_load)
    runner.train()
    return runner


if __name__ == '__main__':
    main()
