"""Train one or more pretraining configs and print where everything went.

Used by ``make demo`` (tools/demo.sh): RecursiveMix on real Fashion-MNIST on
the CPU (and any other configs given, e.g. the baseline on the same budget).

    python tools/demo.py CONFIG [CONFIG ...] [--work-root work_dirs/demo]
"""
import argparse
import glob
import json
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner


def last_metric(work_dir, key='accuracy/top1'):
    """The last logged value of ``key`` in a run's scalars.json."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no scalars.json under {work_dir}')
    values = [json.loads(line)[key] for line in open(files[-1])
              if key in json.loads(line)]
    if not values:
        raise KeyError(f'{key} was never logged in {files[-1]}')
    return values[-1], files[-1]


def train(config, work_root):
    cfg = Config.fromfile(config)
    name = osp.splitext(osp.basename(config))[0]
    cfg.work_dir = osp.join(work_root, name)
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    seconds = time.time() - start
    top1, scalars = last_metric(cfg.work_dir)
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    return dict(name=name, top1=top1, seconds=seconds, checkpoint=ckpt,
                log=osp.join(osp.dirname(osp.dirname(scalars)),
                             osp.basename(osp.dirname(osp.dirname(scalars))) + '.log'),
                scalars=scalars)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--work-root', default='work_dirs/demo')
    args = parser.parse_args()
    results = [train(c, args.work_root) for c in args.configs]
    print('\n== mmrm demo: Fashion-MNIST test set (10,000 real images) ==')
    for r in results:
        print(f"{r['name']:<32} top-1 {r['top1']:6.2f}%  "
              f"({r['seconds'] / 60:.1f} min)\n"
              f"    checkpoint: {r['checkpoint']}\n    log:        {r['log']}")


if __name__ == '__main__':
    main()
