// The load bench's optional chart (--svg FILE): one self-contained SVG, two panels of grouped bars on a
// log scale (Tally and the baseline differ by orders of magnitude), transfers/s and p99 latency, one group
// per workload, one bar per Tally batch size plus the baseline. Pure text out; every label is escaped.

import type { SideBySideRow } from './side-by-side.js';

export interface ChartInput {
  title: string;
  /** One group per entry; a label may have a second line after a newline. */
  groups: string[];
  /** One bar per entry in every group, in this order. */
  series: string[];
  /** [group][series]; null: not measured. */
  transfersPerSecond: (number | null)[][];
  p99Ms: (number | null)[][];
}

const palette = ['#4c78a8', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d'];
const baselineColor = '#e45756';
const barWidth = 18;
const groupGap = 28;
const marginLeft = 80;
const marginRight = 20;
const panelHeight = 260;
const panelGap = 90;
const top = 70;
const widthMin = 640;

/** The chart's input from the side-by-side rows: Tally at each batch size, then the baseline. */
export function chartInput(title: string, rows: readonly SideBySideRow[], batchSizes: readonly number[], baselineName: string | null): ChartInput {
  const series = [...batchSizes.map((b) => `Tally batch ${b}`), ...(baselineName === null ? [] : [baselineName])];
  const pick = (r: SideBySideRow, value: (l: { transfersPerSecond: number; latency: { p99Ms: number } }) => number) => [
    ...batchSizes.map((b) => {
      const c = r.tally.find((cell) => cell.batchEvents === b);
      return c === undefined ? null : value(c);
    }),
    ...(baselineName === null ? [] : [r.baseline === null ? null : value(r.baseline)]),
  ];
  return {
    title,
    // A second label line says when the baseline bar is another workload's (cross-shard, same-shard: uniform).
    groups: rows.map((r) => r.workload + (r.baselineNote === null || baselineName === null ? '' : `\n(${baselineName}: ${r.baseline?.workload ?? '—'})`)),
    series,
    transfersPerSecond: rows.map((r) => pick(r, (c) => c.transfersPerSecond)),
    p99Ms: rows.map((r) => pick(r, (c) => c.latency.p99Ms)),
  };
}

export function renderChart(input: ChartInput): string {
  const groupWidth = input.series.length * barWidth + groupGap;
  const width = Math.max(widthMin, marginLeft + marginRight + input.groups.length * groupWidth);
  const height = top + 2 * panelHeight + panelGap + 60;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="13" font-weight="bold">${escapeXml(input.title)}</text>`,
    legend(input.series, 44),
    panel(input, input.transfersPerSecond, 'transfers/s (log scale)', top, width, formatRate),
    panel(input, input.p99Ms, 'p99 acknowledgement latency, ms (log scale)', top + panelHeight + panelGap, width, formatMs),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function legend(series: readonly string[], y: number): string {
  return series
    .map((name, i) => {
      const x = marginLeft + i * 130;
      return `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${colorOf(series, i)}"/><text x="${x + 14}" y="${y}">${escapeXml(name)}</text>`;
    })
    .join('\n');
}

function colorOf(series: readonly string[], i: number): string {
  return series[i].startsWith('Tally') ? palette[i % palette.length] : baselineColor;
}

function panel(input: ChartInput, values: (number | null)[][], label: string, y0: number, width: number, format: (v: number) => string): string {
  const positive = values.flat().filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  const lo = positive.length === 0 ? 0 : Math.floor(Math.log10(Math.min(...positive)));
  const hi = positive.length === 0 ? 1 : Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
  const yOf = (v: number) => y0 + panelHeight - ((Math.log10(v) - lo) / (hi - lo)) * panelHeight;
  const out = [`<text x="${marginLeft}" y="${y0 - 12}" font-weight="bold">${escapeXml(label)}</text>`];
  for (let e = lo; e <= hi; e++) {
    const y = yOf(10 ** e).toFixed(1);
    out.push(`<line x1="${marginLeft}" y1="${y}" x2="${width - marginRight}" y2="${y}" stroke="#dddddd"/>`);
    out.push(`<text x="${marginLeft - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(format(10 ** e))}</text>`);
  }
  const base = y0 + panelHeight;
  out.push(`<line x1="${marginLeft}" y1="${base}" x2="${width - marginRight}" y2="${base}" stroke="#333333"/>`);
  input.groups.forEach((group, g) => {
    const gx = marginLeft + groupGap / 2 + g * (input.series.length * barWidth + groupGap);
    values[g].forEach((v, s) => {
      const x = gx + s * barWidth;
      if (v === null || !Number.isFinite(v) || v <= 0) {
        out.push(`<text x="${x + barWidth / 2}" y="${base - 4}" text-anchor="middle" fill="#999999">–</text>`);
        return;
      }
      // A value at the lowest gridline still gets a sliver, so it reads as measured rather than missing.
      const y = Math.min(yOf(v), base - 2);
      const tooltip = `${group.replace('\n', ' ')}, ${input.series[s]}: ${format(v)}`;
      out.push(`<rect x="${x + 1}" y="${y.toFixed(1)}" width="${barWidth - 2}" height="${(base - y).toFixed(1)}" fill="${colorOf(input.series, s)}"><title>${escapeXml(tooltip)}</title></rect>`);
      out.push(`<text x="${x + barWidth / 2}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="8">${escapeXml(format(v))}</text>`);
    });
    const cx = gx + (input.series.length * barWidth) / 2;
    const lines = group.split('\n').map((line, i) => `<tspan x="${cx}" dy="${i === 0 ? 0 : 13}">${escapeXml(line)}</tspan>`);
    out.push(`<text x="${cx}" y="${base + 16}" text-anchor="middle">${lines.join('')}</text>`);
  });
  return out.join('\n');
}

/** Short figures for labels: 2.4k, 450k, 1.2M; a whole number loses its ".0" (gridlines read 1k, 10k). */
function formatRate(v: number): string {
  if (v >= 1e6) return `${trimZero((v / 1e6).toFixed(v >= 1e7 ? 0 : 1))}M`;
  if (v >= 1e3) return `${trimZero((v / 1e3).toFixed(v >= 1e4 ? 0 : 1))}k`;
  return trimZero(v >= 10 ? v.toFixed(0) : v.toFixed(1));
}

function formatMs(v: number): string {
  if (v >= 1000) return `${trimZero((v / 1000).toFixed(v >= 1e4 ? 0 : 1))} s`;
  return trimZero(v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));
}

function trimZero(text: string): string {
  return text.replace(/\.0+$/, '');
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
