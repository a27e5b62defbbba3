"""Train-step benchmark of baseline, Mixup, CutMix and RM (paper Table 10).

Modules: :mod:`.methods` (the four classifiers and the input batches),
:mod:`.stats` (interleaving order, spread of the per-round ratios),
:mod:`.measure` (rounds timed by ``torch.utils.benchmark.Timer``,
parameter and operation counts),
:mod:`.memory` (peak memory), :mod:`.report` (``Compare`` table, markdown
tables, JSON) and
:mod:`.run` (one benchmark run). The command line is
``benchmarks/bench_train_step.py``. Importing this package is cheap (no
torch), so that the command line answers ``--help`` at once.
"""
#: the compared methods, in their default order
METHODS = ('baseline', 'mixup', 'cutmix', 'rm')
#: display names
NAMES = {'baseline': 'baseline', 'mixup': 'Mixup', 'cutmix': 'CutMix',
         'rm': 'RM'}
