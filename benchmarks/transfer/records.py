"""The benchmark's record in the repository: ``records.json`` beside its
outputs holds every finished pretraining and cell (their ``result.json``
without the machine's paths), so that the run and the report on a new
machine continue from what was committed instead of from a work root that
went with the old machine.

Outputs committed before this record existed (``results.json`` values and
``run_info.json`` stage sums, no per-cell times) are carried once as they
are: their cells with their values, their pretrainings with their top-1,
their time per stage as one block ("earlier sittings").
"""
import json
import os.path as osp
from typing import Dict, List

from benchmarks.transfer.stages import cell_signature

RECORDS = 'records.json'
MACHINE_KEYS = ('checkpoint', 'backbone', 'skipped')


def cell_key(c: dict) -> tuple:
    return (c['task'], c['init'], c['pretrain_seed'], c['finetune_seed'])


def pretrain_key(r: dict) -> tuple:
    return (r['method'], r['seed'])


def _legacy(out_dir: str, preset: str) -> dict:
    """Cells, pretrainings and stage sums of outputs written before
    ``records.json`` (empty when there are none)."""
    values, info = (osp.join(out_dir, n)
                    for n in ('results.json', 'run_info.json'))
    if not (osp.isfile(values) and osp.isfile(info)):
        return dict(preset=preset, cells=[], pretrains=[],
                    carried_stage_times={})
    with open(values) as f:
        rows = json.load(f)
    with open(info) as f:
        info = json.load(f)
    if info.get('preset') != preset:
        raise ValueError(f'{out_dir} holds the outputs of preset '
                         f'{info.get("preset")!r}, not {preset!r}; use '
                         'another --out-dir')
    cells: Dict[tuple, dict] = {}
    for r in rows:
        c = cells.setdefault(cell_key(r), dict(
            task=r['task'], init=r['init'], pretrain_seed=r['pretrain_seed'],
            finetune_seed=r['finetune_seed'], metrics={}, carried=True))
        c['metrics'][r['metric']] = r['value']
    pretrains = [dict(method=m, seed=int(s), top1=t, carried=True)
                 for m, by_seed in info.get('pretrain_top1', {}).items()
                 for s, t in by_seed.items()]
    times = {k: v for k, v in info.get('stage_times', {}).items()
             if k != 'total' and (v.get('runs') or v.get('seconds'))}
    return dict(preset=preset, cells=list(cells.values()),
                pretrains=pretrains, carried_stage_times=times)


def load(out_dir: str, preset: str, p: dict) -> dict:
    """``{'preset', 'cells', 'pretrains', 'carried_stage_times'}`` recorded
    in ``out_dir`` (``records.json``, else the outputs it replaces).
    ValueError when they are another preset's, or when a recorded cell was
    made with other settings or configs than preset ``p`` has now (as a
    work root's ``result.json`` would be refused)."""
    path = osp.join(out_dir, RECORDS)
    if not osp.isfile(path):
        return _legacy(out_dir, preset)
    with open(path) as f:
        out = json.load(f)
    if out.get('preset') != preset:
        raise ValueError(f'{path} records preset {out.get("preset")!r}, '
                         f'not {preset!r}; use another --out-dir')
    wanted = {}  # (task, init) -> signature: each config digested once
    for c in out['cells']:
        if 'preset' not in c or c['task'] not in p['seeds']:
            continue
        key = (c['task'], c['init'])
        if key not in wanted:
            wanted[key] = cell_signature(*key, p)
        if c['preset'] != wanted[key]:
            raise ValueError(
                f'{path}: cell {cell_key(c)} was made with other settings '
                'or configs than the preset has now; remove it from the '
                'record to run it again, or use another --out-dir')
    return out


def merge(found: List[dict], recorded: List[dict], key) -> List[dict]:
    """What the work root found, then the recorded runs it lacks."""
    have = {key(r) for r in found}
    return list(found) + [r for r in recorded if key(r) not in have]


def reruns(found: List[dict], recorded: List[dict]) -> List[tuple]:
    """``(method, seed, top-1 now, top-1 before)`` of each pretraining that
    the work root ran again where the record holds another run of it (a
    carried one, or one with other times); the earlier top-1 stays on the
    new run's record (``earlier_top1``) for the next report."""
    old = {pretrain_key(r): r for r in recorded}
    out = []
    for r in found:
        o = old.get(pretrain_key(r))
        if o is None:
            continue
        if o.get('carried') or o.get('seconds') != r.get('seconds'):
            r['earlier_top1'] = o['top1']
        elif 'earlier_top1' in o:
            r['earlier_top1'] = o['earlier_top1']
        if 'earlier_top1' in r:
            out.append((*pretrain_key(r), r['top1'], r['earlier_top1']))
    return out


def save(out_dir: str, preset: str, cells: List[dict],
         pretrains: List[dict], carried_stage_times: dict) -> None:
    def clean(r):
        return {k: v for k, v in r.items() if k not in MACHINE_KEYS}
    with open(osp.join(out_dir, RECORDS), 'w') as f:
        json.dump(dict(preset=preset, cells=[clean(c) for c in cells],
                       pretrains=[clean(r) for r in pretrains],
                       carried_stage_times=carried_stage_times), f, indent=1)
