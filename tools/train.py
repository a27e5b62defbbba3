"""Train with any config of mmpretrain, mmdet, mmseg or mmrm (mmengine Runner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm]

The config's ``default_scope`` (mmpretrain / mmdet / mmseg) selects the
registries; ``mmrm`` is imported first so that RM components and the
``StrictPretrained`` initializer are available to all of them. Outputs go to
``work_dirs/<config name>/`` unless ``--work-dir`` or the config says
otherwise. ``--resume`` (no value) resumes from the latest checkpoint of the
work dir, ``--resume PATH`` from PATH. Before training, the checks of
:mod:`mmrm.apis.preflight` run (dataset paths and files, a ``--resume`` /
``load_from`` checkpoint that must match the model unless
``--allow-partial-load``). One run writes a work dir at a time (a second
one stops, naming the first); Ctrl-C ends with one line naming the
``--resume`` command and the checkpoint it continues from. Everything runs
through :func:`mmrm.apis.train`.
"""
import argparse
import os
import sys


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
        'differ from the model (mmengine loads the matching part; a file of '
        'which no key matches still stops the run); by default such a '
        'checkpoint stops the run')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (CUDA)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by actual/base batch size')
    parser.add_argument(
        '--cfg-options', nargs='+', action='extend',
        metavar='KEY=VALUE',
        help='override config entries, key=value (e.g. '
        'train_cfg.max_epochs=1 "model.backbone.init_cfg.checkpoint=x.pth")')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not os.path.isfile(args.config):
        parser.error(f'config file not found: {args.config}')
    return args


def cfg_from_args(args):
    """The run's config: the file plus the command-line options."""
    from mmrm.apis import build_cfg
    return build_cfg(args.config, work_dir=args.work_dir,
                     cfg_options=args.cfg_options, launcher=args.launcher,
                     resume=args.resume, amp=args.amp,
                     auto_scale_lr=args.auto_scale_lr)


def resume_command(args, argv) -> str:
    """This command line without ``--resume [CKPT]`` (a launcher's run:
    its launch command, which the ranks do not see)."""
    import shlex
    if args.launcher != 'none':
        return '<the launch command>'
    argv = list(sys.argv[1:] if argv is None else argv)
    if '--resume' in argv:
        i = argv.index('--resume')
        value = argv[i + 1] if i + 1 < len(argv) else ''
        del argv[i:i + (2 if value and not value.startswith('-')
                        and value == args.resume else 1)]
    argv = [a for a in argv if not a.startswith('--resume=')]
    script = os.path.relpath(os.path.abspath(__file__))
    return shlex.join(['python', script, *argv])


def main(argv=None):
    args = parse_args(argv)
    from mmrm.apis import TrainingInterrupted, train
    try:
        return train(cfg_from_args(args),
                     allow_partial_load=args.allow_partial_load,
                     command=resume_command(args, argv))
    except TrainingInterrupted as e:  # Ctrl-C: one line, no traceback
        if os.environ.get('RANK', '0') == '0':
            print(e, file=sys.stderr, flush=True)
        raise SystemExit(130)


if __name__ == '__main__':
    if os.environ.get('TORCHELASTIC_ERROR_FILE'):  # dist_*.sh / slurm_*.sh
        from torch.distributed.elastic.multiprocessing.errors import record
        record(main)()  # this rank's traceback goes to its error file
    else:
        main()
