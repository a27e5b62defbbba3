"""Training-step time, operation counts and peak memory of baseline, Mixup,
CutMix and RecursiveMix (paper Table 10).

One run builds the four classifiers with mmpretrain's registry (same
backbone, same initial weights, same batches; ``train_step/methods.py``) and
measures ``model.train_step`` (data preprocessor with its batch mixing,
forward, loss, backward, SGD update):

* time (``torch.utils.benchmark``): ``--warmup`` untimed steps per method,
  then ``--rounds`` rounds; in each round every method runs one block of
  ``ceil(--steps / --rounds)`` steps, timed by its ``Timer`` (which first
  runs 2 untimed steps of it), in an order that alternates between rounds
  (rotated every second round, reversed in odd rounds: interleaving is not a
  Timer feature, so the rounds are driven here). Each block gives one
  ``Measurement`` (its mean step time); a method's step time is the median
  and interquartile range of its rounds (``Measurement``), printed by
  ``Compare``. A ratio is computed per round (one method's block over the
  other's in the same round, which cancels the machine's slow and fast
  phases) and reported as the median over rounds with the interquartile
  range ``[Q1, Q3]``. On a 1-thread CPU run the clock is the CPU time of the
  torch thread (other processes sharing the cores do not count, cache and
  frequency effects still do), with the wall time alongside; otherwise
  wall-clock time, with the device synchronised before each reading.
* counts (exact, the same on every run): GFLOPs of the matmuls and
  convolutions of one step (torch ``FlopCounterMode``, forward + backward;
  element-wise ops, RoIAlign and resizing are not counted) and the number
  of ATen operators one step runs.
* peak memory of building a model and running ``--memory-steps`` steps
  (CUDA: ``max_memory_allocated``; CPU: peak live tensor bytes from
  ``torch.profiler`` memory events), parameters (train / deploy).

Examples::

    python benchmarks/bench_train_step.py           # CPU: ResNet-18 (16 base
                                                    # channels), 64x64, K=10
    python benchmarks/bench_train_step.py --device cuda --arch resnet50 \\
        --batch 64 --json work_dirs/bench/r50.json  # paper: 224x224, K=1000

Flags (defaults in ``--help``): ``--device`` (cpu, cuda, cuda:N),
``--arch`` (resnet18/34/50), ``--batch``, ``--img-size`` /
``--num-classes`` / ``--base-channels`` (default from ``--arch``: 224 /
1000 / 64 for resnet50, 64 / 10 / 16 otherwise), ``--methods``,
``--steps``, ``--rounds``, ``--warmup``, ``--memory-steps`` (0: skip),
``--threads`` (CPU), ``--amp`` (CUDA fp16), ``--profile`` (time the
preprocessor and head alone), ``--sync-debug`` (CUDA host syncs),
``--json PATH``.

``--json PATH`` writes ``{"args": {...the options...}, "environment":
{"torch", "clock" ("cpu" | "wall"), "torch_threads", "cpu_count", "gpu"
(CUDA only), "load_avg_start", "load_avg_end"}, "methods": {METHOD:
{...}}}`` with, per method (``baseline``, ``mixup``, ``cutmix``, ``rm``):
``time_ms`` and ``wall_ms`` ``{"median", "iqr"}`` of the step time over
the rounds (``time_ms`` on the primary clock), ``ratios`` ``{OTHER:
[median, q1, q3]}`` (per-round ratios to every method, primary clock),
``steps`` (timed), ``rounds``,
``gflops``, ``aten_ops``, ``mem_mb`` (NaN when skipped),
``params_train``, ``params_deploy``, ``sections`` (``{"preprocess",
"head"}`` ms with ``--profile``, else empty) and ``host_syncs`` (int with
``--sync-debug`` on CUDA, else null).
"""
import argparse
import os.path as osp
import sys

from train_step import METHODS


def resolve_defaults(args) -> argparse.Namespace:
    """Fill the size options that depend on ``--arch``: ResNet-50 gets the
    paper setting (224 px, 1000 classes, 64 base channels), the smaller
    ResNets the CPU setting (64 px, 10 classes, 16 base channels)."""
    paper = args.arch == 'resnet50'
    if args.img_size is None:
        args.img_size = 224 if paper else 64
    if args.num_classes is None:
        args.num_classes = 1000 if paper else 10
    if args.base_channels is None:
        args.base_channels = 64 if paper else 16
    return args


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)``, except for switches and for the options
    whose default depends on ``--arch`` (their help says it)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] + ' ' + __doc__.splitlines()[1],
        formatter_class=_Help)
    add = parser.add_argument
    add('--device', default='cpu', help='cpu, cuda or cuda:N')
    add('--arch', default='resnet18',
        choices=['resnet18', 'resnet34', 'resnet50'], help='backbone')
    add('--batch', type=positive, default=32, help='batch size')
    add('--img-size', type=positive,
        help='input size (default: 224 for resnet50, else 64)')
    add('--num-classes', type=positive,
        help='K (default: 1000 for resnet50, else 10)')
    add('--base-channels', type=positive,
        help='ResNet width (default: 64 for resnet50, else 16)')
    add('--methods', nargs='+', default=list(METHODS), choices=METHODS,
        help='methods to compare')
    add('--steps', type=positive, default=60,
        help='timed steps per method, split over the rounds')
    add('--rounds', type=positive, default=20,
        help='interleaved rounds (the spread is over rounds)')
    add('--warmup', type=int, default=3,
        help='untimed steps per method before timing')
    add('--memory-steps', type=int, default=3,
        help='steps of the peak-memory run (0: skip)')
    add('--threads', type=int, default=1,
        help='torch CPU threads (0: leave torch default)')
    add('--amp', action='store_true',
        help='float16 autocast (AmpOptimWrapper), CUDA only')
    add('--profile', action='store_true',
        help='also time the data preprocessor and the head (loss + '
        'backward) of each method alone')
    add('--profile-reps', type=positive, default=200,
        help='interleaved repetitions of --profile (minimum kept)')
    add('--sync-debug', action='store_true',
        help='CUDA: count the host synchronisations of one step per method')
    add('--json', metavar='PATH',
        help='also write the results as JSON (keys: see the module doc)')
    args = resolve_defaults(parser.parse_args(argv))
    if args.amp and not args.device.startswith('cuda'):
        parser.error('--amp needs --device cuda')
    if args.json and osp.isdir(args.json):
        parser.error(f'--json wants a file path, got the folder {args.json}')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        sys.exit(f'error: --device {args.device}, but torch {torch.__version__} '
                 'sees no CUDA device')
    from train_step.report import format_tables, header, write_json
    from train_step.run import run
    result = run(args)
    print(header(result, args))
    print(format_tables(result, args))
    if args.json:
        write_json(result, args, args.json)
        print(f'JSON: {args.json}', file=sys.stderr)
    return result


if __name__ == '__main__':
    main()
