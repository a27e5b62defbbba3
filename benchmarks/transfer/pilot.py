"""The pretraining-budget pilot's outputs (``python -m
benchmarks.transfer.run --preset pilot``): Fashion-MNIST top-1 of each
method against the number of pretraining epochs, one seed."""
import json
import os
import os.path as osp

from benchmarks.transfer.report import read_results
from benchmarks.transfer.stages import pretrain_name
from mmrm.utils.markdown import markdown_table


def write_pilot(work_root: str, out_dir: str, p: dict) -> dict:
    """``pilot.json`` / ``pilot.md`` / ``pilot.png`` in ``out_dir`` from the
    pilot's finished pretrainings; returns the table
    ``{method: {epochs: top-1}}`` (mean over the pilot's seeds)."""
    from benchmarks.transfer.charts import plot_pilot
    runs = {pretrain_name(r['method'], r['seed'], r['preset']): r
            for r in read_results(work_root, 'pretrain')}
    table, minutes, rows = {}, {}, []
    for m in p['methods']:
        for e in p['epochs']:
            q = dict(p['pretrain'], epochs=e)
            done = [runs[n] for n in (pretrain_name(m, s, q)
                                      for s in p['seeds']) if n in runs]
            if not done:
                continue
            table.setdefault(m, {})[e] = sum(r['top1'] for r in done) / len(
                done)
            minutes.setdefault(m, {})[e] = sum(
                r['cpu_seconds'] for r in done) / 60 / len(done)
            rows.append(dict(method=m, epochs=e, seeds=[r['seed'] for r in done],
                             top1=[r['top1'] for r in done],
                             cpu_minutes=minutes[m][e]))
    epochs = sorted({e for t in table.values() for e in t})
    body = [[e] + [f'{table[m][e]:.2f}' if e in table.get(m, {}) else '—'
                   for m in p['methods']]
            + [f'{sum(minutes[m][e] for m in p["methods"] if e in minutes.get(m, {})):.0f}']
            for e in epochs]
    text = (f'Pilot: pretraining on the first {p["pretrain"]["train_size"]} '
            f'Fashion-MNIST training images, seed(s) {p["seeds"]}; top-1 on '
            'the 10,000 test images after the whole schedule (one run per '
            'row: 1 warm-up epoch, then cosine to the last epoch).\n\n'
            + markdown_table(['epochs'] + list(p['methods'])
                             + ['CPU min (all methods)'], body) + '\n')
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'pilot.md'), 'w') as f:
        f.write(text)
    with open(osp.join(out_dir, 'pilot.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    if table:
        plot_pilot(table, osp.join(out_dir, 'pilot.png'),
                   f'Pretraining budget pilot, seed(s) {p["seeds"]}')
    return table
