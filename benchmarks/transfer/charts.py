"""The transfer benchmark's charts (matplotlib, written to PNG)."""
import textwrap

from benchmarks.transfer import analysis

COLORS = {'random': '#9e9e9e', 'baseline': '#4c72b0', 'cutmix': '#dd8452',
          'rm': '#55a868'}
LABELS = {'random': 'random', 'baseline': 'baseline', 'cutmix': 'CutMix',
          'rm': 'RM'}


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_results(rows, diffs, inits, cols, out_file: str, title: str) -> None:
    """Per metric (one column each): top, every seed's value per init (dots)
    and the mean (bar); bottom, each pretraining minus the baseline, every
    seed's difference (dots) and the mean with its 95 % interval. Metrics
    without a finished cell are left out (named in the title)."""
    from benchmarks.transfer.stages import column_name
    plt = _pyplot()
    empty = [col for col in cols if not any(
        analysis.values_by_seed(rows, col[0], col[1], i) for i in inits)]
    cols = [col for col in cols if col not in empty] or cols[:1]
    fig, axes = plt.subplots(2, len(cols), figsize=(2.4 * len(cols), 5.6),
                             squeeze=False)
    others = [i for i in inits if i != 'baseline']
    for c, (task, metric, _) in enumerate(cols):
        top, bottom = axes[0][c], axes[1][c]
        for x, init in enumerate(inits):
            vals = list(analysis.values_by_seed(rows, task, metric,
                                                init).values())
            if not vals:
                continue
            top.bar(x, sum(vals) / len(vals), color=COLORS[init], alpha=0.6)
            top.scatter([x] * len(vals), vals, s=10, color='black', zorder=3)
        top.set_xticks(range(len(inits)))
        top.set_xticklabels([LABELS[i] for i in inits], fontsize=7)
        top.set_title(f'{column_name(task, metric)} (%)', fontsize=8)
        for x, init in enumerate(others):
            d = diffs[(init, task, metric)]
            bottom.scatter([x] * len(d['diffs']), d['diffs'], s=10,
                           color=COLORS[init], zorder=3)
            ci = d['interval']
            if ci:
                bottom.errorbar(x, ci['mean'], yerr=ci['half'], fmt='_',
                                color='black', capsize=4, markersize=12)
        bottom.axhline(0, color='grey', lw=0.8)
        bottom.set_xticks(range(len(others)))
        bottom.set_xticklabels([LABELS[i] for i in others], fontsize=7)
        bottom.set_title('minus baseline (95 % CI)', fontsize=7)
        for ax in (top, bottom):
            ax.grid(axis='y', alpha=0.3)
            ax.tick_params(labelsize=7)
    missing = ', '.join(column_name(t, m) for t, m, _ in empty)
    text = (title + ': dots = seeds; bars = means; whiskers = 95 % interval '
            'of the paired difference' +
            (f'. No cell finished yet: {missing}' if missing else ''))
    width = fig.get_size_inches()[0]
    fig.suptitle(textwrap.fill(text, int(18 * width)), fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)


def plot_pilot(table: dict, out_file: str, title: str) -> None:
    """Top-1 against pretraining epochs, one line per method."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    for method, points in table.items():
        epochs = sorted(points)
        ax.plot(epochs, [points[e] for e in epochs], marker='o',
                color=COLORS[method], label=LABELS[method])
    ax.set_xlabel('pretraining epochs')
    ax.set_ylabel('Fashion-MNIST test top-1 (%)')
    ax.set_title(title, fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)
