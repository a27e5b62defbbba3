"""The transfer benchmark's outputs from its finished pretrainings and cells:

* ``results.json``: one row per (task, metric, init, pretraining seed,
  fine-tuning seed), value in percent;
* ``results.md``: the pretrainings' top-1; per task, each init's mean ± std
  over seeds; each pretraining's difference to the baseline with its 95 %
  interval and a verdict (:mod:`benchmarks.transfer.analysis`); the
  per-seed values; the time per stage;
* ``results.png``: per metric, every seed's point per init (top) and the
  differences to the baseline with their intervals (bottom);
* ``run_info.json``: pretraining top-1 per seed, wall / CPU time per stage;
* ``records.json``: every finished pretraining and cell, read back on the
  next call (:mod:`benchmarks.transfer.records`).

``write_pilot`` writes the pretraining-budget pilot (``pilot.md``,
``pilot.json``, ``pilot.png``).
"""
import glob
import json
import os
import os.path as osp
from typing import List

from benchmarks.transfer import analysis, records
from benchmarks.transfer.stages import TASKS, column_name
from mmrm.report import load_metafile, norm_key
from mmrm.utils.markdown import markdown_table

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
INIT_NAMES = {'random': 'random init', 'baseline': 'baseline',
              'cutmix': 'CutMix', 'rm': 'RM'}
PAPER_METAFILES = {t: osp.join(REPO, 'configs', d, 'metafile.yml')
                   for t, d in (('atss', 'det/atss'), ('gfl', 'det/gfl'),
                                ('mask_rcnn', 'det/mask_rcnn'),
                                ('htc', 'det/htc'), ('pspnet', 'seg/pspnet'),
                                ('upernet', 'seg/upernet'))}


def read_results(work_root: str, sub: str) -> List[dict]:
    """Every ``result.json`` under ``work_root/sub/*/``."""
    out = []
    for path in sorted(glob.glob(osp.join(work_root, sub, '*',
                                          'result.json'))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def columns(tasks) -> List[tuple]:
    """``(task, metric, logged key)`` per table column, in task order."""
    return [(t, m, key) for t in tasks for m, key in TASKS[t][1].items()]


def result_rows(cells: List[dict], tasks, inits) -> List[dict]:
    """results.json rows, ordered by task, init, metric, seeds."""
    rows = [dict(task=c['task'], metric=m, init=c['init'],
                 pretrain_seed=c['pretrain_seed'],
                 finetune_seed=c['finetune_seed'], value=round(v, 4))
            for c in cells for m, v in c['metrics'].items()]
    order = {k: i for i, k in enumerate(list(tasks) + list(inits))}
    return sorted(rows, key=lambda r: (
        order[r['task']], order[r['init']], r['metric'],
        -1 if r['pretrain_seed'] is None else r['pretrain_seed'],
        r['finetune_seed']))


def paper_gain(task: str, key: str, init: str):
    """The paper's ResNet-50 gain of ``init`` over the baseline (None when
    the metafile has no such pair)."""
    values = {}
    for entry in load_metafile(PAPER_METAFILES[task]):
        if entry.backbone == norm_key('resnet50') and key in entry.metrics:
            values[entry.regularizer] = entry.metrics[key]
    if init in values and 'baseline' in values:
        return values[init] - values['baseline']
    return None


def _fmt(s: dict) -> str:
    if s is None:
        return '—'
    if s['std'] is None:
        return f'{s["mean"]:.1f} (1 seed)'
    return f'{s["mean"]:.1f} ± {s["std"]:.1f} (n={s["n"]})'


def values_table(rows, inits, tasks, top1) -> str:
    header = ['init (Fashion-MNIST top-1)'] + [
        column_name(t, m) for t, m, _ in columns(tasks)]
    body = []
    for init in inits:
        name = INIT_NAMES[init]
        if init in top1:
            name += f' ({_fmt(analysis.summary(top1[init].values()))})'
        body.append([name] + [_fmt(analysis.summary(
            analysis.values_by_seed(rows, t, m, init).values()))
            for t, m, _ in columns(tasks)])
    return markdown_table(header, body)


def differences(rows, inits, tasks) -> dict:
    """``{(init, task, metric): paired_difference}`` for every init but the
    baseline."""
    return {(i, t, m): analysis.paired_difference(rows, t, m, i)
            for i in inits if i != 'baseline' for t, m, _ in columns(tasks)}


def differences_table(diffs, inits, tasks) -> str:
    header = ['minus baseline'] + [column_name(t, m)
                                   for t, m, _ in columns(tasks)]
    body = []
    for init in inits:
        if init == 'baseline':
            continue
        row = [INIT_NAMES[init]]
        for t, m, key in columns(tasks):
            d = diffs[(init, t, m)]
            ci = d['interval']
            text = (f'{ci["mean"]:+.1f} [{ci["low"]:+.1f}, {ci["high"]:+.1f}]'
                    if ci else ', '.join(f'{x:+.1f}' for x in d['diffs'])
                    or '—')
            paper = paper_gain(t, key, init)
            if paper is not None:
                text += f'; paper {paper:+.1f}'
            row.append(f'{text}: **{d["verdict"]}**')
        body.append(row)
    return markdown_table(header, body)


def seeds_table(rows, inits, tasks) -> str:
    header = ['init'] + [column_name(t, m) for t, m, _ in columns(tasks)]
    body = []
    for init in inits:
        row = [INIT_NAMES[init]]
        for t, m, _ in columns(tasks):
            vals = analysis.values_by_seed(rows, t, m, init)
            row.append(', '.join(f'{s}: {v:.1f}' for s, v in
                                 sorted(vals.items())) or '—')
        body.append(row)
    return markdown_table(header, body)


def spread_table(rows, tasks) -> str:
    """Fine-tuning spread (pretraining fixed) beside the spread over seeds
    (pretraining and fine-tuning both drawn anew), per metric."""
    header = ['spread (std)'] + [column_name(t, m)
                                 for t, m, _ in columns(tasks)]
    fine, total = ['fine-tuning seeds, one pretraining'], [
        'seeds of the design, mean over the pretrained inits']
    for t, m, _ in columns(tasks):
        s = analysis.finetune_spread(rows, t, m)
        fine.append('—' if s is None else f'{s["std"]:.2f} (dof {s["dof"]})')
        stds = [analysis.summary(analysis.values_by_seed(rows, t, m, i)
                                 .values()) for i in ('baseline', 'cutmix',
                                                      'rm')]
        stds = [s['std'] for s in stds if s and s['std'] is not None]
        total.append(f'{sum(stds) / len(stds):.2f}' if stds else '—')
    return markdown_table(header, [fine, total])


def stage_times(pretrains, cells, data, tasks, carried=None) -> dict:
    """Wall / CPU seconds per stage (sums over the runs of each stage that
    recorded its times), then the stage sums ``carried`` from earlier
    outputs (:mod:`benchmarks.transfer.records`)."""
    pretrains = [r for r in pretrains if 'seconds' in r]
    cells = [c for c in cells if 'seconds' in c]
    times = {'data': {k: data.get(k, 0.0)
                      for k in ('seconds', 'cpu_seconds')}}
    times['pretrain+convert'] = {
        'runs': len(pretrains),
        'seconds': sum(r['seconds'] + r['convert_seconds'] for r in pretrains),
        'cpu_seconds': sum(r['cpu_seconds'] + r['convert_cpu_seconds']
                           for r in pretrains)}
    for task in tasks:
        mine = [c for c in cells if c['task'] == task]
        times[f'finetune+test {task}'] = {
            'runs': len(mine),
            'seconds': sum(c['seconds'] for c in mine),
            'cpu_seconds': sum(c['cpu_seconds'] for c in mine)}
    for stage, t in (carried or {}).items():
        times[f'{stage} (earlier sittings)'] = t
    times['total'] = {k: sum(v[k] for v in times.values())
                      for k in ('seconds', 'cpu_seconds')}
    return times


def times_table(times: dict) -> str:
    body = [[stage, t.get('runs', ''), f'{t["seconds"] / 60:.1f}',
             f'{t["cpu_seconds"] / 60:.1f}'] for stage, t in times.items()
            if t.get('runs') != 0]  # stages with no run yet: no row
    return markdown_table(['stage', 'runs', 'wall min', 'CPU min'], body)


def provenance(carried: int, reruns) -> str:
    """Sentences on cells carried from earlier outputs and pretrainings
    run again (empty when neither)."""
    text = ''
    if carried:
        text += (f'\n\n{carried} cells are carried from outputs committed '
                 'before their work root was lost: their values as '
                 'committed, their time only in the stage sums of the '
                 'earlier sittings.')
    same = [f'{m} seed {s}' for m, s, now, then in reruns
            if abs(now - then) < 1e-6]
    if same:
        text += ('\n\nPretrainings run again that reached the top-1 '
                 f'recorded before to the last digit ({len(same)}): '
                 f'{", ".join(same)}.')
    for method, seed, now, then in reruns:
        if abs(now - then) >= 1e-6:
            text += (f'\n\nPretraining {method} seed {seed} ran again: '
                     f'top-1 {now:.2f} (recorded {then:.2f}; the cells made '
                     'before used that one).')
    return text


def budget(p: dict, preset: str) -> str:
    """One sentence: the data, pretraining and fine-tuning budget."""
    q, d = p['pretrain'], p['scenes']
    reps = ''.join(f'; replicates: {r["init"]} pretraining seed '
                   f'{r["pretrain_seed"]} fine-tuned with seeds '
                   f'{r["finetune_seeds"]} ({", ".join(r["tasks"])})'
                   for r in p.get('replicates', ()))
    return (f'Preset `{preset}`: {d["train"]} training / {d["val"]} '
            f'validation scenes of {d["size"]}x{d["size"]} px (seed '
            f'{d["seed"]}); pretraining ({", ".join(p["methods"])}) on the '
            f'first {q["train_size"]} Fashion-MNIST training images for '
            f'{q["epochs"]} epochs, top-1 on {q["val_size"] or 10000} test '
            f'images; seeds per task {p["seeds"]} (pretraining seed = '
            'fine-tuning seed; random init takes the fine-tuning seed); '
            'fine-tuning with '
            'the schedules of configs/transfer/'
            + (f' changed by {p["finetune"]}' if p['finetune'] else '')
            + reps + '.')


def write_outputs(work_root: str, out_dir: str, p: dict, plan,
                  info: dict) -> dict:
    """Collect the finished pretrainings and cells of ``plan`` and write
    the four outputs to ``out_dir``. Returns run_info."""
    from benchmarks.transfer.charts import plot_results
    from benchmarks.transfer.stages import pretrain_name, seed_rows
    tasks, inits = tuple(p['seeds']), ('random', ) + tuple(p['methods'])
    wanted = set(plan)
    old = records.load(out_dir, info['preset'], p)
    cells = [c for c in records.merge(read_results(work_root, 'finetune'),
                                      old['cells'], records.cell_key)
             if records.cell_key(c) in wanted]
    names = {pretrain_name(m, s, p['pretrain'])
             for m in p['methods'] for s in seed_rows(p)}
    found = [r for r in read_results(work_root, 'pretrain')
             if pretrain_name(r['method'], r['seed'], r['preset']) in names]
    pretrains = records.merge(found, [
        r for r in old['pretrains']
        if r['method'] in p['methods'] and r['seed'] in seed_rows(p)],
        records.pretrain_key)
    reruns = records.reruns(found, old['pretrains'])
    data_file = osp.join(work_root, 'data.json')
    data = json.load(open(data_file)) if osp.isfile(data_file) else {}
    rows = result_rows(cells, tasks, inits)
    top1 = {}
    for r in pretrains:
        top1.setdefault(r['method'], {})[r['seed']] = r['top1']
    diffs = differences(rows, inits, tasks)
    times = stage_times(pretrains, cells, data, tasks,
                        old['carried_stage_times'])
    missing = sorted(set(plan) - {records.cell_key(c) for c in cells},
                     key=str)
    carried = sum(1 for c in cells if c.get('carried'))
    info = dict(info, cells_done=len(cells), cells_planned=len(plan),
                cells_carried=carried, cells_missing=missing,
                pretrain_top1=top1, pretrain_reruns=reruns,
                verdicts={f'{i} {t} {m}': d['verdict']
                          for (i, t, m), d in diffs.items()},
                stage_times=times, machine=dict(cpu_count=os.cpu_count()))
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'results.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    with open(osp.join(out_dir, 'run_info.json'), 'w') as f:
        json.dump(info, f, indent=1)
    records.save(out_dir, info['preset'], cells, pretrains,
                 old['carried_stage_times'])
    status = ('' if not missing else
              f'\n\n**Incomplete: {len(cells)} of {len(plan)} cells '
              'finished.** Missing (task, init, pretraining seed, '
              f'fine-tuning seed): {missing}. Rerun the same command to '
              'finish them.')
    status += provenance(carried, reruns)
    text = (f'{info["budget"]}{status}\n\n'
            'Mean ± std over seeds (each seed: its own pretraining and '
            'fine-tuning), in %:\n\n' + values_table(rows, inits, tasks, top1)
            + '\n\nDifference to the baseline pretraining, mean over seeds '
            'with its 95 % interval (paired by seed, Student t), the '
            "paper's ResNet-50 gain for scale, and the verdict:\n\n"
            + differences_table(diffs, inits, tasks)
            + '\n\nSpread:\n\n' + spread_table(rows, tasks)
            + '\n\nPer seed:\n\n' + seeds_table(rows, inits, tasks)
            + '\n\nTime per stage (sums over runs; '
            f'{info["jobs"]} job(s) at a time, {info["threads"]} thread(s) '
            'each):\n\n' + times_table(times) + '\n')
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(text)
    if rows:
        plot_results(rows, diffs, inits, columns(tasks),
                     osp.join(out_dir, 'results.png'),
                     f'Fashion-MNIST scenes, preset {info["preset"]}')
    return info
