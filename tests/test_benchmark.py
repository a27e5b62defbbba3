"""benchmarks/: train-step benchmark smoke run and the comparison helpers."""
import importlib.util
import json
import math
import os

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, 'benchmarks', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load('bench_train_step')
compare = _load('compare_fmnist')


def _rows(table):
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if line.startswith('| ') and cells[0] != 'method':
            rows.setdefault(cells[0], cells)
    return rows


def test_bench_smoke_prints_all_methods_with_finite_ratios(capsys):
    results = bench.main([
        '--steps', '2', '--rounds', '1', '--warmup', '1', '--memory-steps',
        '1', '--batch', '4', '--img-size', '32', '--profile', '--profile-reps',
        '2'
    ])
    out = capsys.readouterr().out
    rows = _rows(out.split('\n', 1)[1].split('\n\n')[0])
    assert set(rows) == {'baseline', 'Mixup', 'CutMix', 'RM'}
    for name, cells in rows.items():
        ratios = [float(cells[i]) for i in (2, 3, 6, 7)]
        assert all(math.isfinite(r) and r > 0 for r in ratios), (name, cells)
    assert float(rows['baseline'][2]) == 1.0
    assert float(rows['CutMix'][3]) == 1.0
    # RM trains an extra fc_roi (C*K + K) that the deployed model drops
    c, k = 128, 10
    train = {m: r['params_train'] for m, r in results.items()}
    deploy = {m: r['params_deploy'] for m, r in results.items()}
    assert train['rm'] - train['baseline'] == c * k + k
    assert len(set(deploy.values())) == 1 and deploy['rm'] == train['baseline']
    assert all(r['mem_mb'] > 0 and r['steps'] == 2 for r in results.values())
    assert 'preprocess (ms, min)' in out and 'both − CutMix' in out


def test_cpu_peak_tensor_bytes_sees_transient_allocations():

    def work():
        a = torch.ones(1 << 20)  # 4 MiB
        b = a * 2  # +4 MiB live at once
        del a, b
        torch.ones(1 << 18)  # 1 MiB, after the peak

    peak = bench.cpu_peak_tensor_bytes(work)
    assert 8 * 2**20 <= peak < 9 * 2**20


def test_model_configs_share_the_backbone():
    cfgs = {
        m: bench.model_config(m, 'resnet50', 64, 1000)
        for m in bench.METHODS
    }
    assert len(
        {json.dumps(c['backbone'], sort_keys=True)
         for c in cfgs.values()}) == 1
    assert cfgs['rm']['neck'] is None
    assert cfgs['rm']['head']['in_channels'] == 2048
    assert cfgs['cutmix']['train_cfg']['augments']['type'] == 'CutMix'
    with pytest.raises(ValueError, match='method'):
        bench.model_config('resizemix', 'resnet18', 16, 10)
    args = bench.parse_args(['--arch', 'resnet50'])
    assert (args.img_size, args.num_classes, args.base_channels) == (224, 1000,
                                                                     64)


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


def test_paired_ratios_cancel_a_slow_round():
    # round 1 is 3x slower for everyone (another process took the core)
    times = {
        'cutmix': [(0, 10.0, 0), (0, 10.0, 0), (0, 30.0, 1)],
        'rm': [(0, 10.2, 0), (0, 10.2, 0), (0, 30.6, 1)],
        'baseline': [(0, 9.0, 0), (0, 27.0, 1)]
    }
    ratios = bench.paired_ratios(times, clock=1)
    assert ratios['rm']['cutmix'] == pytest.approx(1.02)
    assert ratios['cutmix']['baseline'] == pytest.approx(10 / 9)
    assert ratios['baseline']['baseline'] == 1.0
