"""Every relative link of README.md and docs/*.md resolves: the file (or
folder) exists, and a ``#anchor`` names a heading of the linked markdown
file, made into an anchor as GitHub does. Links inside code (fenced blocks,
inline code spans) are not links and are skipped."""
import glob
import os.path as osp
import re

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = ['README.md'] + sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'docs', '*.md')))
#: ``[text](target)`` and ``![alt](target)``; an optional "title" after it
LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?'
                  r'(?:\s+"[^"]*")?\s*\)')
FENCE = re.compile(r'^(```|~~~).*?^\1[^\n]*$', re.S | re.M)
CODE_SPAN = re.compile(r'(`+)(?:(?!\1).)+?\1', re.S)


def prose(text: str) -> str:
    """The markdown without fenced code blocks and inline code spans."""
    return CODE_SPAN.sub('', FENCE.sub('', text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: the text of its links, lowercase,
    without punctuation other than ``-`` and ``_``, spaces as ``-``."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)
    text = re.sub(r'[^\w\- ]', '', text.strip().lower())
    return text.replace(' ', '-')


def anchors(text: str) -> set:
    """Anchors of a markdown page: its headings (repeated ones numbered
    ``-1``, ``-2`` as GitHub does) and explicit ``id=``/``name=``."""
    found, seen = set(), {}
    for line in FENCE.sub('', text).splitlines():
        m = re.match(r'^#{1,6}\s+(.*?)\s*#*\s*$', line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f'{base}-{n}')
    found |= set(re.findall(r'<a\s+(?:name|id)="([^"]+)"', text))
    return found


def links(page: str):
    with open(osp.join(ROOT, page), encoding='utf-8') as f:
        text = f.read()
    for target in LINK.findall(prose(text)):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target, re.I):  # http:, mailto:
            continue
        yield target


def broken(page: str, target: str):
    """Why ``target`` (as written in ``page``) does not resolve, or None."""
    path, _, anchor = target.partition('#')
    where = osp.normpath(osp.join(ROOT, osp.dirname(page), path)) if path \
        else osp.join(ROOT, page)
    if not osp.exists(where):
        return f'no file {osp.relpath(where, ROOT)}'
    if anchor and where.endswith('.md'):
        with open(where, encoding='utf-8') as f:
            if anchor not in anchors(f.read()):
                return f'no heading #{anchor} in {osp.relpath(where, ROOT)}'
    return None


def test_slug_and_anchors_follow_github():
    assert slug('1. Full-scale runs (8 GPUs)') == '1-full-scale-runs-8-gpus'
    assert slug('Grad-CAM on mixed samples (paper Fig. 6-7)') == \
        'grad-cam-on-mixed-samples-paper-fig-6-7'
    assert slug('The `lam` convention') == 'the-lam-convention'
    assert slug('[Mixed](x.md) precision (AMP)') == 'mixed-precision-amp'
    assert anchors('# A\n## A\n```\n# not a heading\n```\n') == {'a', 'a-1'}


def test_the_checker_finds_broken_links():
    """A missing file, a missing heading and a link in code (skipped)."""
    assert list(links('README.md'))  # the README has links to check
    text = ('[a](docs/nope.md) [b](docs/pipeline.md#no-such-heading) '
            '`[c](docs/also-nope.md)` [d](https://example.org/x)\n'
            '```\n[e](nope-in-code.md)\n```\n')
    assert LINK.findall(prose(text)) == [
        'docs/nope.md', 'docs/pipeline.md#no-such-heading',
        'https://example.org/x']
    assert broken('README.md', 'docs/nope.md') == 'no file docs/nope.md'
    assert broken('README.md', 'docs/pipeline.md#no-such-heading') == \
        'no heading #no-such-heading in docs/pipeline.md'
    assert broken('docs/pipeline.md', '../README.md') is None
    assert broken('docs/pipeline.md',
                  '#1-full-scale-runs-8-gpus') is None


@pytest.mark.parametrize('page', PAGES)
def test_every_relative_link_resolves(page):
    bad = [f'{t}: {why}' for t in links(page)
           for why in [broken(page, t)] if why]
    assert not bad, f'{page}: broken links:\n' + '\n'.join(bad)
