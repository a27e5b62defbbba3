"""Test (evaluate) a checkpoint with any config of mmpretrain, mmdet, mmseg.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

Metrics are logged and written by mmengine under the work dir
(``work_dirs/<config name>/<timestamp>/<timestamp>.json``); ``--out`` also
dumps the raw predictions to a pickle file. The checkpoint is loaded
weights-only (mmengine's own checkpoint types are allow-listed), and must
hold exactly the model's keys and shapes (``--allow-partial-load`` accepts a
partial match as mmengine does).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402

from mmrm.convert.preflight import check_checkpoint_matches  # noqa: E402
from mmrm.convert.runtime import (build_runner, default_work_dir,  # noqa: E402
                                  prepare_process, setup_cpu_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test a model (mmpretrain/mmdet/mmseg/mmrm config)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument(
        '--allow-partial-load', action='store_true',
        help='evaluate even if the checkpoint keys/shapes differ from the '
        'model (mmengine loads the matching part)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error('--out must be a .pkl/.pickle file')
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
    prepare_process()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)
    cfg.load_from = args.checkpoint
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg)
    # mmengine loads with strict=False: refuse a checkpoint that does not
    # hold exactly the model's keys and shapes (mmrm/convert/preflight.py)
    if not args.allow_partial_load:
        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        check_checkpoint_matches(model, args.checkpoint)
    if args.out is not None:
        runner.test_evaluator.metrics.append(dump_metric(cfg, args.out))
    metrics = runner.test()
    return metrics


if __name__ == '__main__':
    main()
