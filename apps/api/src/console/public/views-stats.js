// Success rate and latency of one subscription over 1 h, 24 h or 7 d: two small inline SVG charts
// (no library), readable without colour (solid vs hatched bars, solid vs dashed lines with different
// markers), each with a text summary and the numbers as a table.
import { api, paths, query } from './api.js';
import { h, plural, replaceKeepingFocus, svg, uid, viewerZone } from './ui.js';

const WINDOWS = [
  ['1h', '1 h', 'hour'],
  ['24h', '24 h', '24 hours'],
  ['7d', '7 d', '7 days'],
];
const REFRESH_MS = 10_000;

/** The "Success rate and latency" section; `changed()` runs when the reader picks another window. */
export function statsSection(ctx, appId, subId, initialWindow, changed) {
  const state = { window: WINDOWS.some(([w]) => w === initialWindow) ? initialWindow : '24h', shown: '', loadedAt: 0 };
  const name = uid('window');
  const radios = WINDOWS.map(([value, label]) =>
    h('label', { class: 'check' }, h('input', { type: 'radio', name, value, checked: value === state.window }), ` ${label}`),
  );
  const body = h('div', { class: 'stats-body' });
  const element = h(
    'section',
    { class: 'panel stats', 'aria-labelledby': 'stats-title' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'stats-title' }, 'Success rate and latency'),
      h('fieldset', { class: 'segmented' }, h('legend', { class: 'visually-hidden' }, 'Period'), radios),
    ),
    body,
  );
  const section = {
    element,
    /** The window for the address: none for the default one. */
    get window() {
      return state.window === '24h' ? '' : state.window;
    },
    async load(force = false) {
      if (!force && Date.now() - state.loadedAt < REFRESH_MS) return;
      let stats;
      try {
        stats = await api('GET', paths.stats(appId, subId) + query({ window: state.window }));
      } catch (error) {
        if (error?.status !== 404) throw error;
        stats = null; // an API without the route: say so rather than fail the page
      }
      state.loadedAt = Date.now();
      const snapshot = JSON.stringify(stats);
      if (snapshot === state.shown || !ctx.current) return;
      state.shown = snapshot;
      replaceKeepingFocus(body, stats ? statsContent(stats) : h('p', { class: 'muted' }, 'Statistics are not available from this API.'));
    },
  };
  element.addEventListener('change', (event) => {
    if (event.target.name !== name) return;
    state.window = event.target.value;
    changed();
    section.load(true).catch(ctx.fail);
  });
  return section;
}

const percent = (rate) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)}%`);
const ms = (value) => (value === null || value === undefined ? '—' : `${Math.round(value)} ms`);

function windowWords(stats) {
  return WINDOWS.find(([w]) => w === stats.window)?.[2] ?? stats.window;
}

function statsContent(stats) {
  const t = stats.totals;
  const summaryId = uid('stats-summary');
  const summary = t.attempts
    ? `Last ${windowWords(stats)}: ${plural(t.attempts, 'attempt')}, ${t.succeeded} succeeded, ${t.failed} failed: success rate ${percent(t.success_rate)}. Latency p50 ${ms(t.latency_p50_ms)}, p95 ${ms(t.latency_p95_ms)}.`
    : `No attempts in the last ${windowWords(stats)}.`;
  return [
    h('p', { class: 'stats-summary', id: summaryId }, summary),
    h('div', { class: 'charts' }, rateChart(stats, summaryId), latencyChart(stats, summaryId)),
    legend(),
    h('p', { class: 'hint' }, `Each bar is ${bucketWords(stats.bucket_seconds)}; times in your zone (${viewerZone()}).`),
    h(
      'details',
      { class: 'stats-table', 'data-key': 'stats-table' },
      h('summary', {}, 'The numbers, as a table'),
      h(
        'div',
        { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Numbers per period' },
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, `Attempts, success rate and latency per ${bucketWords(stats.bucket_seconds)}, oldest first`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['From', 'Attempts', 'Succeeded', 'Failed', 'Success rate', 'p50', 'p95'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            stats.buckets.map((b) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row' }, tick(b.start, stats)),
                h('td', {}, String(b.attempts)),
                h('td', {}, String(b.succeeded)),
                h('td', {}, String(b.failed)),
                h('td', {}, percent(b.success_rate)),
                h('td', {}, ms(b.latency_p50_ms)),
                h('td', {}, ms(b.latency_p95_ms)),
              ),
            ),
          ),
        ),
      ),
    ),
  ];
}

function bucketWords(seconds) {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}

const tickFormats = {
  short: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }),
  long: new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' }),
};
const tick = (iso, stats) => (stats.bucket_seconds >= 6 * 3600 ? tickFormats.long : tickFormats.short).format(new Date(iso));

// Drawing area inside a 400 × 170 viewBox; the SVG scales to the width it is given.
const W = 400;
const H = 170;
const M = { left: 52, right: 8, top: 10, bottom: 24 };
const plotW = W - M.left - M.right;
const plotH = H - M.top - M.bottom;

function frame(titleText, summaryId, yLabels, stats, ...content) {
  const titleId = uid('chart-title');
  const n = stats.buckets.length;
  const slot = plotW / Math.max(n, 1);
  const xTicks = [0, Math.floor(n / 2), n - 1].filter((i, at, all) => i >= 0 && all.indexOf(i) === at);
  return h(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId, 'aria-describedby': summaryId, focusable: 'false' },
      svg('title', { id: titleId }, titleText),
      content[0]?.defs ?? null,
      yLabels.map(([value, text]) => [
        svg('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: value, y2: value }),
        svg('text', { class: 'axis', x: M.left - 4, y: value + 4, 'text-anchor': 'end' }, text),
      ]),
      xTicks.map((i) =>
        svg(
          'text',
          { class: 'axis', x: M.left + slot * i + slot / 2, y: H - 6, 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' },
          tick(stats.buckets[i].start, stats),
        ),
      ),
      content.map((c) => c?.marks ?? c),
    ),
    h('figcaption', {}, titleText),
  );
}

const yOf = (fraction) => M.top + plotH * (1 - fraction);

/** Per bucket, a bar split to 100%: the succeeded share solid, the failed share hatched; empty buckets a dashed stub. */
function rateChart(stats, summaryId) {
  const hatchId = uid('hatch');
  const defs = svg(
    'defs',
    {},
    svg(
      'pattern',
      { id: hatchId, patternUnits: 'userSpaceOnUse', width: 6, height: 6, patternTransform: 'rotate(45)' },
      svg('rect', { class: 'hatch-bg', width: 6, height: 6 }),
      svg('line', { class: 'hatch-line', x1: 0, y1: 0, x2: 0, y2: 6 }),
    ),
  );
  const slot = plotW / Math.max(stats.buckets.length, 1);
  const barW = Math.max(slot * 0.7, 1);
  const marks = stats.buckets.map((b, i) => {
    const x = M.left + slot * i + (slot - barW) / 2;
    const label = `${tick(b.start, stats)}: ${b.attempts ? `${plural(b.attempts, 'attempt')}, ${percent(b.success_rate)} succeeded` : 'no attempts'}`;
    if (!b.attempts) return svg('line', { class: 'nodata', x1: x, x2: x + barW, y1: yOf(0) - 1, y2: yOf(0) - 1 }, svg('title', {}, label));
    const ok = b.succeeded / b.attempts;
    return svg(
      'g',
      { class: 'bar' },
      svg('title', {}, label),
      ok > 0 ? svg('rect', { class: 'succeeded', x, width: barW, y: yOf(ok), height: plotH * ok }) : null,
      ok < 1 ? svg('rect', { class: 'failed', fill: `url(#${hatchId})`, x, width: barW, y: yOf(1), height: plotH * (1 - ok) }) : null,
    );
  });
  return frame(
    `Success rate per ${bucketWords(stats.bucket_seconds)}, last ${windowWords(stats)}`,
    summaryId,
    [
      [yOf(1), '100%'],
      [yOf(0.5), '50%'],
      [yOf(0), '0%'],
    ],
    stats,
    { defs, marks },
  );
}

/** p50 as a solid line with round markers, p95 dashed with square markers; gaps where nothing was attempted. */
function latencyChart(stats, summaryId) {
  const max = Math.max(1, ...stats.buckets.map((b) => b.latency_p95_ms ?? b.latency_p50_ms ?? 0));
  const top = niceCeiling(max);
  const slot = plotW / Math.max(stats.buckets.length, 1);
  const xOf = (i) => M.left + slot * i + slot / 2;
  const yMs = (value) => yOf(value / top);
  const series = (key, className, marker) => {
    const points = stats.buckets.map((b, i) => (b[key] === null || b[key] === undefined ? null : [xOf(i), yMs(b[key]), b, i]));
    let d = '';
    let pen = false;
    for (const p of points) {
      if (!p) pen = false;
      else {
        d += `${pen ? 'L' : 'M'}${p[0].toFixed(1)} ${p[1].toFixed(1)} `;
        pen = true;
      }
    }
    return svg(
      'g',
      { class: className },
      d ? svg('path', { d: d.trim(), fill: 'none' }) : null,
      points.filter(Boolean).map(([x, y, b]) => marker(x, y, `${tick(b.start, stats)}: ${key === 'latency_p50_ms' ? 'p50' : 'p95'} ${ms(b[key])}`)),
    );
  };
  const circle = (x, y, label) => svg('circle', { cx: x, cy: y, r: 2.6 }, svg('title', {}, label));
  const square = (x, y, label) => svg('rect', { x: x - 2.6, y: y - 2.6, width: 5.2, height: 5.2 }, svg('title', {}, label));
  return frame(
    `Latency per ${bucketWords(stats.bucket_seconds)} (p50 and p95), last ${windowWords(stats)}`,
    summaryId,
    [
      [yOf(1), `${top} ms`],
      [yOf(0.5), `${top / 2} ms`],
      [yOf(0), '0'],
    ],
    stats,
    series('latency_p95_ms', 'line p95', square),
    series('latency_p50_ms', 'line p50', circle),
  );
}

function niceCeiling(value) {
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (value <= m * step) return m * step;
  return 10 * step;
}

/** The legend names each mark by its shape as well as its colour. */
function legend() {
  const swatch = (...marks) => svg('svg', { viewBox: '0 0 24 12', width: 24, height: 12, 'aria-hidden': 'true', focusable: 'false', class: 'swatch' }, marks);
  const hatchId = uid('hatch');
  return h(
    'ul',
    { class: 'legend' },
    h('li', {}, swatch(svg('rect', { class: 'succeeded', x: 2, y: 1, width: 20, height: 10 })), ' Succeeded (solid bar)'),
    h(
      'li',
      {},
      swatch(
        svg(
          'defs',
          {},
          svg(
            'pattern',
            { id: hatchId, patternUnits: 'userSpaceOnUse', width: 4, height: 4, patternTransform: 'rotate(45)' },
            svg('rect', { class: 'hatch-bg', width: 4, height: 4 }),
            svg('line', { class: 'hatch-line', x1: 0, y1: 0, x2: 0, y2: 4 }),
          ),
        ),
        svg('rect', { class: 'failed', fill: `url(#${hatchId})`, x: 2, y: 1, width: 20, height: 10 }),
      ),
      ' Failed (hatched bar)',
    ),
    h(
      'li',
      {},
      swatch(svg('g', { class: 'line p50' }, svg('path', { d: 'M1 6 L23 6', fill: 'none' }), svg('circle', { cx: 12, cy: 6, r: 2.6 }))),
      ' p50 latency (solid line, dots)',
    ),
    h(
      'li',
      {},
      swatch(svg('g', { class: 'line p95' }, svg('path', { d: 'M1 6 L23 6', fill: 'none' }), svg('rect', { x: 9.4, y: 3.4, width: 5.2, height: 5.2 }))),
      ' p95 latency (dashed line, squares)',
    ),
  );
}
