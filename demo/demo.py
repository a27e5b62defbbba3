"""Train one or more pretraining configs and print where everything went.

Used by ``make demo`` (demo/demo.sh): RecursiveMix on real Fashion-MNIST on
the CPU (and any other configs given, e.g. the baseline on the same budget).
Each config runs through :func:`mmrm.apis.train`, the entry point of
``tools/train.py``, with the same preflight checks.

    python demo/demo.py CONFIG [CONFIG ...] [--work-root work_dirs/demo]
"""
import argparse
import os.path as osp
import time


def train(config, work_root):
    from mmrm import apis
    from mmrm.report import last_metric
    name = osp.splitext(osp.basename(config))[0]
    cfg = apis.build_cfg(config, work_dir=osp.join(work_root, name))
    start = time.time()
    runner = apis.train(cfg)
    seconds = time.time() - start
    top1 = last_metric(cfg.work_dir, 'accuracy/top1')
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    log = osp.join(runner.log_dir, f'{runner.timestamp}.log')
    return dict(name=name, top1=top1, seconds=seconds, checkpoint=ckpt,
                log=log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--work-root', default='work_dirs/demo',
                        help='one folder per config under it '
                        '(default: %(default)s)')
    args = parser.parse_args(argv)
    missing = [c for c in args.configs if not osp.isfile(c)]
    if missing:
        parser.error(f'config file(s) not found: {" ".join(missing)}')
    results = [train(c, args.work_root) for c in args.configs]
    print('\n== mmrm demo: Fashion-MNIST test set (10,000 real images) ==')
    for r in results:
        print(f"{r['name']:<32} top-1 {r['top1']:6.2f}%  "
              f"({r['seconds'] / 60:.1f} min)\n"
              f"    checkpoint: {r['checkpoint']}\n    log:        {r['log']}")
    return results


if __name__ == '__main__':
    main()
