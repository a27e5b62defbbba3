"""Test (evaluate) a checkpoint with any config of mmpretrain, mmdet, mmseg.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

Metrics are logged and written by mmengine under the work dir
(``work_dirs/<config name>/<timestamp>/<timestamp>.json``); ``--out`` also
dumps the raw predictions to a pickle file. The checkpoint is loaded
weights-only (mmengine's own checkpoint types are allow-listed), and must
hold exactly the model's keys and shapes (``--allow-partial-load`` accepts a
partial match as mmengine does). Everything runs through
:func:`mmrm.apis.test`.
"""
import argparse
import os
import os.path as osp


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test a model (mmpretrain/mmdet/mmseg/mmrm config)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--cfg-options', nargs='+', action='extend',
                        metavar='KEY=VALUE',
                        help='override config entries, key=value')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument(
        '--allow-partial-load', action='store_true',
        help='evaluate even if the checkpoint keys/shapes differ from the '
        'model (mmengine loads the matching part; a file of which no key '
        'matches is still refused)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error('--out must be a .pkl/.pickle file')
    if not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config}')
    if not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint not found: {args.checkpoint}')
    return args


def dump_metric(cfg, out_file: str):
    """The dump 'metric' of the config's library (mmdet encodes masks)."""
    if cfg.get('default_scope') == 'mmdet':
        from mmdet.evaluation import DumpDetResults
        return DumpDetResults(out_file_path=out_file)
    from mmengine.evaluator import DumpResults
    return DumpResults(out_file_path=out_file)


def main(argv=None):
    args = parse_args(argv)
    from mmrm.apis import build_cfg, test
    cfg = build_cfg(args.config, work_dir=args.work_dir,
                    cfg_options=args.cfg_options, launcher=args.launcher)
    extra = [dump_metric(cfg, args.out)] if args.out is not None else []
    return test(cfg, args.checkpoint,
                allow_partial_load=args.allow_partial_load,
                extra_metrics=extra)


if __name__ == '__main__':
    if os.environ.get('TORCHELASTIC_ERROR_FILE'):  # dist_*.sh / slurm_*.sh
        from torch.distributed.elastic.multiprocessing.errors import record
        record(main)()  # this rank's traceback goes to its error file
    else:
        main()
