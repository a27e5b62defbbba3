"""The transfer benchmark's outputs from its finished stages and cells:

* ``results.json``: one row per (init, task, metric, seed), value in percent;
* ``results.md``: the table in the layout of paper Tables 7-9 (rows:
  initialisation; columns: the tasks' metrics, mean ± sample std over the
  fine-tuning seeds, gain over the baseline init in brackets), each metric
  beside the paper's ResNet-50 numbers (read from the metafiles), then the
  per-seed values and the time per stage;
* ``results.png``: per metric, one bar per init (mean), the seeds as dots;
* ``run_info.json``: top-1 of the pretrainings, wall / CPU time per stage.
"""
import glob
import json
import os
import os.path as osp
from typing import Dict, List

from mmrm.report import load_metafile, norm_key
from mmrm.utils.markdown import markdown_table, mean_std

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TASK_NAMES = {'atss': 'ATSS', 'mask_rcnn': 'Mask R-CNN', 'upernet': 'UperNet'}
METRIC_NAMES = {'bbox_mAP': 'box AP', 'segm_mAP': 'mask AP', 'mIoU': 'mIoU'}
INIT_NAMES = {'random': 'random init', 'baseline': 'baseline',
              'cutmix': 'CutMix', 'rm': 'RM'}
PAPER_METAFILES = {t: osp.join(REPO, 'configs', d, 'metafile.yml')
                   for t, d in (('atss', 'det/atss'),
                                ('mask_rcnn', 'det/mask_rcnn'),
                                ('upernet', 'seg/upernet'))}
PAPER_BACKBONE = 'resnet50'


def read_results(work_root: str, sub: str) -> List[dict]:
    """Every ``result.json`` under ``work_root/sub/*/``."""
    out = []
    for path in sorted(glob.glob(osp.join(work_root, sub, '*',
                                          'result.json'))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def result_rows(cells: List[dict], inits, tasks) -> List[dict]:
    """results.json rows, ordered by task, init, metric, seed."""
    rows = [dict(init=c['init'], task=c['task'], metric=m, seed=c['seed'],
                 value=round(v, 4))
            for c in cells for m, v in c['metrics'].items()]
    order = {k: i for i, k in enumerate(list(tasks) + list(inits))}
    return sorted(rows, key=lambda r: (order[r['task']], order[r['init']],
                                       r['metric'], r['seed']))


def paper_numbers(task: str, key: str) -> Dict[str, float]:
    """Paper value of ``key`` (the logged metric name) per pretraining, for
    the ResNet-50 rows of the task's metafile."""
    out = {}
    for entry in load_metafile(PAPER_METAFILES[task]):
        if entry.backbone == norm_key(PAPER_BACKBONE) and key in entry.metrics:
            out[entry.regularizer] = entry.metrics[key]
    return out


def columns(tasks) -> List[tuple]:
    """``(task, metric, logged key)`` per table column, in task order."""
    return [(t, m, key) for t, (_, metrics) in tasks.items()
            for m, key in metrics.items()]


def _values(rows, init, task, metric):
    return [r['value'] for r in rows
            if (r['init'], r['task'], r['metric']) == (init, task, metric)]


def main_table(rows, inits, tasks, top1: Dict[str, float]) -> str:
    header, body = ['pretraining (Fashion-MNIST top-1)'], []
    for task, metric, _ in columns(tasks):
        header += [f'{TASK_NAMES[task]} {METRIC_NAMES[metric]}', 'paper R-50']
    for init in inits:
        name = INIT_NAMES[init]
        if init in top1:
            name += f' ({top1[init]:.1f})'
        row = [name]
        for task, metric, key in columns(tasks):
            vals = _values(rows, init, task, metric)
            base = _values(rows, 'baseline', task, metric)
            if not vals:
                row.append('—')
            else:
                mean, std = mean_std(vals)
                cell = (f'{mean:.1f} ± {std:.2f}' if len(vals) > 1 else
                        f'{mean:.1f} (1 seed)')
                if init not in ('baseline', 'random') and base:
                    cell += f' ({mean - mean_std(base)[0]:+.1f})'
                row.append(cell)
            paper = paper_numbers(task, key)
            if init not in paper:
                row.append('—')
            elif init == 'baseline' or 'baseline' not in paper:
                row.append(f'{paper[init]:g}')
            else:
                row.append(f'{paper[init]:g} '
                           f'({paper[init] - paper["baseline"]:+.1f})')
        body.append(row)
    return markdown_table(header, body)


def seeds_table(rows, inits, tasks) -> str:
    header = ['pretraining'] + [f'{TASK_NAMES[t]} {METRIC_NAMES[m]}'
                                for t, m, _ in columns(tasks)]
    body = []
    for init in inits:
        row = [INIT_NAMES[init]]
        for task, metric, _ in columns(tasks):
            vals = _values(rows, init, task, metric)
            row.append(', '.join(f'{v:.2f}' for v in vals) or '—')
        body.append(row)
    return markdown_table(header, body)


def plot(rows, inits, tasks, out_file: str, title: str) -> None:
    """One panel per metric: bars = mean over seeds, dots = seeds, whiskers
    = sample std."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = columns(tasks)
    fig, axes = plt.subplots(1, len(cols), figsize=(3.0 * len(cols), 3.2))
    colors = ['#9e9e9e', '#4c72b0', '#dd8452', '#55a868']
    for ax, (task, metric, _) in zip(axes, cols):
        for x, init in enumerate(inits):
            vals = _values(rows, init, task, metric)
            if not vals:
                continue
            mean, std = mean_std(vals)
            ax.bar(x, mean, color=colors[x % len(colors)], alpha=0.8,
                   yerr=std, capsize=3)
            ax.scatter([x] * len(vals), vals, s=9, color='black', zorder=3)
        ax.set_xticks(range(len(inits)))
        ax.set_xticklabels([INIT_NAMES[i].replace(' init', '')
                            for i in inits], fontsize=8)
        ax.set_title(f'{TASK_NAMES[task]} {METRIC_NAMES[metric]} (%)',
                     fontsize=9)
        ax.grid(axis='y', alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
    plt.close(fig)


def stage_times(pretrains, cells, data) -> dict:
    """Wall / CPU seconds per stage (sums over the runs of each stage)."""
    times = {'data': {k: data.get(k, 0.0)
                      for k in ('seconds', 'cpu_seconds')}}
    times['pretrain+convert'] = {
        'seconds': sum(r['seconds'] + r['convert_seconds'] for r in pretrains),
        'cpu_seconds': sum(r['cpu_seconds'] + r['convert_cpu_seconds']
                           for r in pretrains)}
    for task in TASK_NAMES:
        mine = [c for c in cells if c['task'] == task]
        times[f'finetune+test {task}'] = {
            'cells': len(mine),
            'seconds': sum(c['seconds'] for c in mine),
            'cpu_seconds': sum(c['cpu_seconds'] for c in mine)}
    times['total'] = {k: sum(v[k] for v in times.values())
                      for k in ('seconds', 'cpu_seconds')}
    return times


def times_table(times: dict) -> str:
    body = [[stage, t.get('cells', ''), f'{t["seconds"] / 60:.1f}',
             f'{t["cpu_seconds"] / 60:.1f}'] for stage, t in times.items()]
    return markdown_table(['stage', 'cells', 'wall min', 'CPU min'], body)


def write_outputs(work_root: str, out_dir: str, plan, tasks, inits,
                  info: dict) -> dict:
    """Collect the finished stages and cells of ``plan`` (``(task, init,
    seed)``) and write the four outputs to ``out_dir``. Returns run_info."""
    wanted = set(plan)
    cells = [c for c in read_results(work_root, 'finetune')
             if (c['task'], c['init'], c['seed']) in wanted]
    pretrains = read_results(work_root, 'pretrain')
    data_file = osp.join(work_root, 'data.json')
    data = json.load(open(data_file)) if osp.isfile(data_file) else {}
    rows = result_rows(cells, inits, tasks)
    top1 = {r['method']: r['top1'] for r in pretrains}
    times = stage_times(pretrains, cells, data)
    info = dict(info, cells_done=len(cells), cells_planned=len(plan),
                pretrain_top1=top1, stage_times=times,
                machine=dict(cpu_count=os.cpu_count()))
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'results.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    with open(osp.join(out_dir, 'run_info.json'), 'w') as f:
        json.dump(info, f, indent=1)
    status = ('' if len(cells) == len(plan) else
              f'\n\n**Incomplete: {len(cells)} of {len(plan)} cells '
              'finished.** Rerun the same command to finish the others.')
    text = (f'{info["budget"]}{status}\n\n'
            + main_table(rows, inits, tasks, top1)
            + '\n\nPer fine-tuning seed:\n\n' + seeds_table(rows, inits, tasks)
            + '\n\nTime per stage (sums over runs; '
            f'{info["jobs"]} job(s) at a time, {info["threads"]} thread(s) '
            'each):\n\n' + times_table(times) + '\n')
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(text)
    if rows:
        plot(rows, inits, tasks, osp.join(out_dir, 'results.png'),
             info['chart_title'])
    return info
