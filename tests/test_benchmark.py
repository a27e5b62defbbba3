"""benchmarks/: train-step benchmark (smoke run, statistics, CLI) and the
Fashion-MNIST comparison helpers."""
import json
import math
import os
import re
import sys

import pytest
import torch

from helpers import load_tool, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the benchmark's modules are imported as its command line imports them
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
from train_step import METHODS, stats  # noqa: E402
from train_step.memory import cpu_peak_tensor_bytes  # noqa: E402
from train_step.methods import model_config  # noqa: E402


BENCH = 'benchmarks/bench_train_step.py'
bench = load_tool(BENCH)
compare = load_tool('benchmarks/compare_fmnist.py')


def _rows(table):
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if line.startswith('| ') and cells[0] != 'method':
            rows.setdefault(cells[0], cells)
    return rows


SPREAD = r'(\d+\.\d+) \[(\d+\.\d+), (\d+\.\d+)\]'


def test_bench_smoke_prints_ratios_with_spread_and_writes_json(
        tmp_path, capfd):
    path = tmp_path / 'bench.json'
    result = bench.main([
        '--steps', '4', '--rounds', '2', '--warmup', '1', '--memory-steps',
        '1', '--batch', '4', '--img-size', '32', '--profile', '--profile-reps',
        '2', '--json', str(path)
    ])
    out, err = capfd.readouterr()
    # no profiler library log lines on a CPU run (fd-level capture), e.g.
    # "ERROR:... gpuGetDeviceCount failed", "[W... CPUAllocator.cpp...]"
    assert not [line for line in err.splitlines() if line.startswith(
        ('[W', 'ERROR:', 'USDT:', 'STAGE:'))], err
    header, compare_block, rest = out.split('```')
    assert header.startswith('# train step: resnet18 (base 16), batch 4')
    # torch.utils.benchmark's Compare: one row per method, both clocks
    assert ' train step: resnet18 (base 16), batch 4, 32x32, 10 classes, ' \
        'cpu ]' in compare_block
    assert re.search(r'\|\s+CPU time\s+\|\s+wall time', compare_block)
    for name in ('baseline', 'Mixup', 'CutMix', 'RM'):
        assert re.search(rf'^\s+{name}\s+\|\s+\d+\.\d', compare_block,
                         re.M), (name, compare_block)
    ratio_table, note, counts = rest.strip().split('\n\n')[:3]
    rows = _rows(ratio_table)
    assert set(rows) == {'baseline', 'Mixup', 'CutMix', 'RM'}
    for name, cells in rows.items():
        for cell in cells[1:3]:  # / baseline, / CutMix
            med, q1, q3 = map(float, re.fullmatch(SPREAD, cell).groups())
            assert 0 < q1 <= med <= q3, (name, cells)
    assert rows['baseline'][1] == '1.000 [1.000, 1.000]'
    assert rows['CutMix'][2] == '1.000 [1.000, 1.000]'
    assert 'median [Q1, Q3] over the 2 rounds' in note
    counts = _rows(counts)
    assert float(counts['baseline'][2]) == 1.0
    assert int(counts['RM'][3]) > int(counts['CutMix'][3])  # aten ops
    saved = json.loads(path.read_text())
    assert saved['args']['rounds'] == 2
    assert saved['environment']['clock'] == 'cpu'
    assert len(saved['environment']['load_avg_start']) == 3
    methods = saved['methods']
    assert set(methods) == set(METHODS) == set(result['methods'])
    for m, r in methods.items():
        assert r['steps'] == 4 and r['rounds'] == 2 and r['mem_mb'] > 0
        assert len(r['ratios']['baseline']) == 3 and r['gflops'] > 0
        assert r['time_ms']['median'] > 0 and r['time_ms']['iqr'] >= 0
        # every key of the JSON is documented in the command's docstring
        assert all(f'``{k}``' in bench.__doc__ for k in r), r.keys()
    # RM trains an extra fc_roi (C*K + K) that the deployed model drops
    c, k = 128, 10
    assert methods['rm']['params_train'] - \
        methods['baseline']['params_train'] == c * k + k
    assert {r['params_deploy'] for r in methods.values()} == {
        methods['baseline']['params_train']}
    assert methods['rm']['gflops'] > methods['baseline']['gflops']
    assert 'preprocess (ms, min)' in out and 'both − CutMix' in out


def test_timed_rounds_interleave_and_measure_each_method_per_round(
        monkeypatch):
    """The rounds run the methods in round_order, each Timer block on its
    own method's model with fresh batches, and every round's Measurement
    holds that block's mean step time, on the CPU clock and the wall clock
    (a fake clock that the models advance by a known cost per step)."""
    from train_step import measure

    class FakeTime:
        now = cpu = 0.0

        def perf_counter(self):
            return self.now

        def thread_time(self):
            return self.cpu

    clock = FakeTime()
    monkeypatch.setattr(measure, 'time', clock)

    class Model:
        """A train step of known cost (wall: twice the CPU time)."""

        def __init__(self, name, seconds, log):
            self.name, self.seconds, self.log = name, seconds, log

        def train_step(self, data, wrapper):
            self.log.append((self.name, data))
            clock.cpu += self.seconds
            clock.now += 2 * self.seconds

    counter = iter(range(10**6))

    def pool():
        """A fresh batch, of a cost that must not be timed."""
        clock.cpu += 1.0
        clock.now += 1.0
        return next(counter)

    log, costs = [], {'baseline': 0.002, 'rm': 0.006}
    models = {m: (Model(m, s, log), None) for m, s in costs.items()}
    primary, wall = measure.timed_rounds(
        models, pool, torch.device('cpu'), rounds=4,
        steps=12, warmup=1, cpu_clock=True, label='t')
    for m, seconds in costs.items():
        assert [x.number_per_run for x in primary[m]] == [3] * 4
        assert [x.times[0] for x in primary[m]] == pytest.approx(
            [seconds] * 4)
        assert [x.times[0] for x in wall[m]] == pytest.approx(
            [2 * seconds] * 4)
        assert {x.description for x in primary[m]} == {'CPU time'}
        assert {x.description for x in wall[m]} == {'wall time'}
    assert stats.paired_ratios({m: [x.times[0] for x in r] for m, r in
                                primary.items()})['rm']['baseline'] == \
        pytest.approx((3.0, 3.0, 3.0))
    # warm-up, then per round: the methods in round_order, each a block of
    # 2 untimed + 3 timed steps, every step on a batch of its own
    expected = ['baseline', 'rm']
    for r in range(4):
        for m in stats.round_order(['baseline', 'rm'], r):
            expected += [m] * 5
    assert [n for n, _ in log] == expected
    assert len({d for _, d in log}) == len(log)


def test_cpu_peak_tensor_bytes_sees_transient_allocations():

    def work():
        a = torch.ones(1 << 20)  # 4 MiB
        b = a * 2  # +4 MiB live at once
        del a, b
        torch.ones(1 << 18)  # 1 MiB, after the peak

    peak = cpu_peak_tensor_bytes(work)
    assert 8 * 2**20 <= peak < 9 * 2**20


def test_model_configs_share_the_backbone():
    cfgs = {m: model_config(m, 'resnet50', 64, 1000) for m in METHODS}
    assert len(
        {json.dumps(c['backbone'], sort_keys=True)
         for c in cfgs.values()}) == 1
    assert cfgs['rm']['neck'] is None
    assert cfgs['rm']['head']['in_channels'] == 2048
    assert cfgs['cutmix']['train_cfg']['augments']['type'] == 'CutMix'
    with pytest.raises(ValueError, match='method'):
        model_config('resizemix', 'resnet18', 16, 10)
    args = bench.parse_args(['--arch', 'resnet50'])
    assert (args.img_size, args.num_classes, args.base_channels) == (224, 1000,
                                                                     64)


def test_round_order_balances_positions_and_pair_orders():
    """Over each pair of rounds every method has the same mean position and
    every two methods run once in each order (a linear drift cancels)."""
    methods = list(METHODS)
    for start in range(0, 8, 2):
        orders = [stats.round_order(methods, r) for r in (start, start + 1)]
        assert all(sorted(o) == sorted(methods) for o in orders)
        positions = {m: sum(o.index(m) for o in orders) for m in methods}
        assert set(positions.values()) == {len(methods) - 1}
        for a in methods:
            for b in methods:
                if a != b:
                    assert sum(o.index(a) < o.index(b) for o in orders) == 1
    # the first method does not always run first
    assert {stats.round_order(methods, r)[0] for r in range(8)} == set(methods)


def test_spread_is_median_and_interquartile_range():
    import numpy as np
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    med, q1, q3 = stats.spread(values)
    assert (q1, med, q3) == pytest.approx(
        tuple(np.percentile(values, [25, 50, 75])))
    assert stats.spread([2.5]) == (2.5, 2.5, 2.5)
    assert stats.spread([1.0, float('nan'), 3.0]) == (2.0, 1.5, 2.5)
    assert all(math.isnan(v) for v in stats.spread([]))
    assert stats.fmt_spread((1.0444, 1.02, 1.06)) == '1.044 [1.020, 1.060]'
    assert stats.fmt_spread(stats.NAN_SPREAD) == 'n/a'


def test_paired_ratios_cancel_a_slow_round():
    # round 1 is 3x slower for everyone (another process took the core)
    times = {'cutmix': [10.0, 30.0, 10.0], 'rm': [10.2, 30.6, 10.2],
             'baseline': [9.0, 27.0, 8.0]}
    ratios = stats.paired_ratios(times)
    assert ratios['rm']['cutmix'] == pytest.approx((1.02, 1.02, 1.02))
    assert ratios['cutmix']['baseline'][0] == pytest.approx(10 / 9)
    assert ratios['baseline']['baseline'] == (1.0, 1.0, 1.0)
    # per-round ratios 1.02 and 3.06: median 2.04, quartiles 1.53, 2.55
    times = {'cutmix': [10.0, 10.0], 'rm': [10.2, 30.6]}
    assert stats.paired_ratios(times)['rm']['cutmix'] == pytest.approx(
        (2.04, 1.53, 2.55))


def test_cli_help_shows_defaults():
    code, out, err, heavy = run_script(BENCH, '--help')
    assert code == 0 and heavy == [], err
    text = ' '.join(out.split())
    assert '(default: 20)' in text and '(default: resnet18)' in text
    assert 'default: 224 for resnet50, else 64' in text


@pytest.mark.parametrize('argv,message', [
    (['--amp'], '--amp needs --device cuda'),
    (['--rounds', '0'], 'must be >= 1'),
    (['--methods', 'rm', 'resizemix'], 'invalid choice'),
])
def test_cli_argument_errors_exit_2(argv, message):
    code, out, err, heavy = run_script(BENCH, *argv)
    assert code == 2 and message in err and heavy == [], err


def test_compare_config_overrides():
    cfg = compare.build_config('rm', 2, '/tmp/x', 1000, 3, 0)
    assert cfg.randomness.seed == 2 and cfg.work_dir == '/tmp/x'
    assert cfg.train_dataloader.dataset.indices == 1000
    assert cfg.train_cfg.max_epochs == 3 and cfg.train_cfg.val_interval == 1
    assert cfg.param_scheduler[-1].end == 3
    assert cfg.model.head.type == 'RecursiveMixHead'
    with pytest.raises(ValueError, match='2 epochs'):
        compare.build_config('rm', 0, '/tmp/x', 1000, 1, 0)


def test_compare_reads_curves_and_writes_table(tmp_path):
    results = []
    for method, tops in (('baseline', (80.0, 82.0)), ('rm', (81.0, 85.0))):
        for seed, top in enumerate(tops):
            run = tmp_path / f'{method}_seed{seed}' / '20260101_000000'
            (run / 'vis_data').mkdir(parents=True)
            lines = [{
                'loss': 1.0,
                'step': 10
            }, {
                'accuracy/top1': top - 5,
                'step': 1
            }, {
                'accuracy/top1': top,
                'step': 2
            }]
            (run / 'vis_data' / 'scalars.json').write_text('\n'.join(
                json.dumps(x) for x in lines))
            curve = compare.read_curve(str(run.parent))
            assert curve == {'epoch': [1, 2], 'top1': [top - 5, top]}
            results.append(
                dict(method=method,
                     seed=seed,
                     top1=top,
                     curve=curve,
                     seconds=60.0))
    table = compare.results_table(results)
    rows = _rows(table)
    assert rows['baseline'][2] == '81.00 ± 1.41'
    assert rows['RM'][2] == '83.00 ± 2.83' and rows['RM'][3] == '+2.00'
    compare.plot_curves(results, str(tmp_path / 'curve.png'))
    assert (tmp_path / 'curve.png').stat().st_size > 1000
    doc = 'intro\n' + compare.BEGIN + '\nold\n' + compare.END + '\nrest\n'
    new = compare.replace_between_markers(doc, table)
    assert 'old' not in new and table in new and new.endswith('rest\n')
    assert compare.replace_between_markers(new, table) == new
    with pytest.raises(FileNotFoundError):
        compare.read_curve(str(tmp_path / 'nothing'))
