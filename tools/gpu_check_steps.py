"""The steps of ``tools/gpu_check.py``: each takes the parsed arguments and
returns a dict with a one-line ``summary`` (and ``status`` when not 'ok').

The det/seg steps use the fixture builders of the det/seg tests
(:mod:`mmrm.testing.finetune_fixtures`: configs pointed at ``tests/data``,
small images, one iteration, the pretraining-checkpoint maker and the
recorder that compares the starting weights), so that the GPU check runs
exactly what the CPU tests run.
"""
import json
import math
import os
import os.path as osp
import socket
import subprocess

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BENCH = 'benchmarks/bench_train_step.py'
PRETRAIN_R50 = 'configs/pretrain/imagenet/resnet50_8xb64-300e-rm_in1k.py'
GOAL = 1.02  # RM / CutMix, time and memory (paper: memory 1.009x)
_cache = {}


def fixtures():
    """The fine-tuning fixture builders (imported on first use: they import
    mmengine, which ``--dry-run`` and ``--help`` do not need)."""
    from mmrm.testing import finetune_fixtures
    return finetune_fixtures


# ------------------------------------------------------------------ ops
def ops(args) -> dict:
    import torch
    from mmrm.utils.mmcv_ops import check_ops, ops_build
    devices = ['cpu'] + [f'cuda:{i}' for i in range(torch.cuda.device_count())]
    diffs = {d: check_ops(d) for d in devices}
    worst = max(v for d in diffs.values() for v in d.values())
    return dict(summary=f"mmcv ops ({ops_build()}) match on "
                f"{', '.join(devices)} (max diff {worst:.1e})",
                devices=diffs)


# -------------------------------------------------------------- table 10
def bench_command(args, json_path=None) -> list:
    """The benchmark's command line (its flags, as documented by --help)."""
    if args.cpu:
        size = ['--device', 'cpu', '--arch', 'resnet18', '--batch', '4',
                '--img-size', '32', '--steps', '4', '--rounds', '2',
                '--warmup', '1', '--memory-steps', '1']
    else:
        size = ['--device', 'cuda', '--arch', 'resnet50', '--batch', '64',
                '--amp', '--steps', '80', '--rounds', '8', '--warmup', '10',
                '--memory-steps', '3']
    cmd = [args.python, BENCH, *size]
    return cmd + ['--json', json_path] if json_path else cmd


def bench_has_json(args) -> bool:
    out = subprocess.run([args.python, BENCH, '--help'], cwd=ROOT,
                         capture_output=True, text=True)
    return '--json' in out.stdout


def parse_markdown(text: str) -> dict:
    """The first ``| method | ...`` table: method -> {column: cell}."""
    lines = [l for l in text.splitlines() if l.startswith('|')]
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip('|').split('|')]
        if cells[0] == 'method':
            rows = {}
            for row in lines[i + 2:]:
                vals = [c.strip() for c in row.strip('|').split('|')]
                if len(vals) != len(cells) or vals[0] == 'method':
                    break
                rows[vals[0].lower()] = dict(zip(cells, vals))
            return rows
    return {}


def _number(cell) -> float:
    try:
        return float(str(cell).rstrip('x*× '))
    except ValueError:
        return math.nan


def rm_over_cutmix(rows: dict) -> dict:
    """RM's time / memory ratios to CutMix and parameter counts (M) from
    the benchmark's table (columns as bench_train_step.py names them)."""
    rm = rows.get('rm', {})
    pick = lambda *words: next((v for k, v in rm.items()  # noqa: E731
                                if all(w in k for w in words)), None)
    return dict(time=_number(pick('time', 'CutMix')),
                memory=_number(pick('memory', 'CutMix')),
                params_train=_number(pick('train')),
                params_deploy=_number(pick('deploy')))


def rm_over_cutmix_json(report: dict) -> dict:
    """The same from the benchmark's ``--json`` file: ``{"methods": {METHOD:
    {"ratios": {OTHER: [median, q1, q3] or median}, "mem_mb", "params_train",
    "params_deploy"}}}`` (bench_train_step.py's module doc)."""
    methods = report['methods']
    rm, cut = methods['rm'], methods['cutmix']
    time_ratio = rm['ratios']['cutmix']
    spread = time_ratio if isinstance(time_ratio, list) else None
    return dict(time=float(spread[0] if spread else time_ratio),
                time_q1_q3=spread[1:3] if spread else None,
                memory=float(rm['mem_mb']) / float(cut['mem_mb']),
                params_train=rm['params_train'] / 1e6,
                params_deploy=rm['params_deploy'] / 1e6)


def table10(args) -> dict:
    out_json = osp.abspath(osp.join(args.out, 'table10.json'))
    with_json = bench_has_json(args)
    cmd = bench_command(args, out_json if with_json else None)
    # -X importtime: the modules it imports, for the JSON's "imports"
    proc = subprocess.run([cmd[0], '-X', 'importtime', *cmd[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)} failed: '
                           f'{proc.stderr.strip().splitlines()[-1:]}')
    if with_json:
        with open(out_json) as f:
            ratios = rm_over_cutmix_json(json.load(f))
    else:
        ratios = rm_over_cutmix(parse_markdown(proc.stdout))
    over = [k for k in ('time', 'memory') if ratios[k] > GOAL]
    met = not over
    spread = ratios.get('time_q1_q3')
    summary = (f"RM/CutMix time {ratios['time']:.3f}x"
               f"{' [%.3f, %.3f]' % tuple(spread) if spread else ''}, memory "
               f"{ratios['memory']:.3f}x (goal: both <= {GOAL}: "
               f"{'met' if met else 'NOT met by ' + ' and '.join(over)}); "
               "params train "
               f"{ratios['params_train']:.2f}M / deploy "
               f"{ratios['params_deploy']:.2f}M"
               f"{' (CPU, tiny: plumbing only)' if args.cpu else ''}")
    imports = [line.split('|')[-1].strip() for line in
               proc.stderr.splitlines() if line.startswith('import time:')
               and not line.endswith('imported package')]
    return dict(summary=summary, command=' '.join(cmd), rm_vs_cutmix=ratios,
                goal_met=met, table=proc.stdout, imports=imports,
                json=out_json if with_json else None)


# -------------------------------------------------------------- det/seg
def rm_backbone(args):
    """A converted RM ResNet-50 checkpoint (once): the RM pretrain config's
    classifier with perturbed weights, through ``convert_checkpoint``."""
    key = ('backbone', osp.abspath(args.out))
    if key not in _cache:
        from mmrm.convert import convert_checkpoint
        import torch
        folder = osp.join(args.out, 'checkpoints')
        os.makedirs(folder, exist_ok=True)
        src = osp.join(folder, 'resnet50_rm_pretrain.pth')
        dst = osp.join(folder, 'resnet50_rm_backbone.pth')
        fixtures().pretrain_checkpoint(PRETRAIN_R50, src, seed=1)
        convert_checkpoint(src, dst, backbone='resnet50', verify=True)
        sd = torch.load(dst, map_location='cpu', weights_only=True)
        _cache[key] = (dst, sd.get('state_dict', sd))
    return _cache[key]


def detseg(name: str, args) -> dict:
    """One iteration + one evaluation through :func:`mmrm.apis.train`."""
    from mmrm import apis
    fx = fixtures()
    ckpt, converted = rm_backbone(args)
    rel = fx.R50_CONFIGS[name]
    cfg = fx.fixture_config(rel, ckpt, osp.join(args.out, name))
    rec = fx.Recorder()
    runner = apis.train(cfg, extra_hooks=[rec])
    fx.assert_loaded(rec, converted)  # strict: every tensor as converted
    device = str(next(runner.model.parameters()).device)
    wanted = sorted(fx.metafile_metrics(rel))
    metrics = {k: float(rec.metrics[k]) for k in wanted} if rec.metrics else {}
    if len(metrics) != len(wanted) or not all(
            math.isfinite(v) for v in metrics.values()):
        raise RuntimeError(f'{rel}: metrics {rec.metrics}, wanted {wanted}')
    loss = rec.losses[0]['loss']
    shown = ', '.join(f'{k.split("/")[-1]} {v:.3g}'
                      for k, v in metrics.items())
    return dict(summary=f'{device}: strict load ok, loss {loss:.3f}, {shown}',
                config=rel, device=device, loss=loss, metrics=metrics)


# ------------------------------------------------------------------ dist
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist(args) -> dict:
    import torch
    n = torch.cuda.device_count()
    if n < 2:
        return dict(status='skipped',
                    summary=f'{n} GPU(s) visible: the 2-GPU run needs 2')
    fx = fixtures()
    ckpt, _ = rm_backbone(args)
    work = osp.abspath(osp.join(args.out, 'dist'))
    cfg = fx.fixture_config(fx.R50_CONFIGS['atss'], ckpt, work,
                            evaluate=False)
    cfg.train_cfg.max_iters = 4
    path = osp.join(work, 'atss_r50-rm_fixture.py')
    os.makedirs(work, exist_ok=True)
    cfg.dump(path)
    cmd = ['bash', 'tools/dist_train.sh', path, '2', '--work-dir', work]
    env = dict(os.environ, PYTHON=args.python, PORT=str(_free_port()))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)}: exit {proc.returncode}: '
                           f'{proc.stderr.strip().splitlines()[-3:]}')
    from mmrm.report.runs import read_scalars
    losses = [r['loss'] for _, r in read_scalars(work) if 'loss' in r]
    if len(losses) != 4 or not all(math.isfinite(v) for v in losses):
        raise RuntimeError(f'expected 4 finite logged losses, got {losses}')
    return dict(summary=f'2 GPUs, 4 iterations, last loss {losses[-1]:.3f}',
                command=' '.join(cmd), losses=losses)


STEP_FUNCS = dict(ops=ops, table10=table10,
                  atss=lambda a: detseg('atss', a),
                  mask_rcnn=lambda a: detseg('mask_rcnn', a),
                  upernet=lambda a: detseg('upernet', a), dist=dist)


def describe(name: str, args) -> str:
    """What a step would run (``--dry-run``)."""
    if name == 'ops':
        return ('mmcv nms / RoIAlign (+ sigmoid_focal_loss on CUDA) on cpu '
                'and every GPU vs CPU / torch reference')
    if name == 'table10':
        return '`' + ' '.join(bench_command(args)[1:]) + '` (+ --json if ' \
            'supported)'
    if name == 'dist':
        return ('`bash tools/dist_train.sh <ATSS R50 fixture config> 2` '
                '(4 iterations; skipped unless 2 GPUs)')
    data = 'ADE' if name == 'upernet' else 'COCO'
    return (f'`{fixtures().R50_CONFIGS[name]}`: 1 iteration + evaluation on '
            f'the {data} fixture from a converted RM checkpoint (strict)')
