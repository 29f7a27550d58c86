// The --svg chart is one well-formed, self-contained SVG document: balanced tags, escaped labels, no
// NaN or Infinity in any coordinate, a bar per measured value and a mark for each missing one.
import { describe, expect, it } from 'vitest';
import { escapeXml, renderChart, type ChartInput } from '../../../bench/load/svg-chart.js';

/** Tag names in document order; throws on a close tag that does not match the open one. */
function checkBalanced(svg: string): number {
  const stack: string[] = [];
  let elements = 0;
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^<>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClosing) stack.push(name);
    elements++;
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  return elements;
}

const input: ChartInput = {
  title: 'Tally vs <PostgreSQL> & co',
  groups: ['uniform', 'hot-credit', 'cross-shard\n(PostgreSQL: uniform)'],
  series: ['Tally batch 1', 'Tally batch 8190', 'PostgreSQL'],
  transfersPerSecond: [
    [12_000, 450_000, 2_400],
    [9_000, null, 1_100],
    [8_000, 200_000, 2_400],
  ],
  p99Ms: [
    [40, 90, 13],
    [50, null, 60],
    [45, 120, 13],
  ],
};

describe('renderChart', () => {
  const svg = renderChart(input);

  it('is one <svg> element with the SVG namespace, its tags balanced', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(checkBalanced(svg)).toBeGreaterThan(20);
  });

  it('escapes text and has only finite numbers', () => {
    expect(svg).toContain('Tally vs &lt;PostgreSQL&gt; &amp; co');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('draws one bar per measured value in each panel, with its value in a tooltip', () => {
    const bars = [...svg.matchAll(/<rect [^>]*><title>/g)].length;
    const measured = input.transfersPerSecond.flat().filter((v) => v !== null).length + input.p99Ms.flat().filter((v) => v !== null).length;
    expect(bars).toBe(measured);
    expect(svg).toContain('<title>hot-credit, PostgreSQL: 1.1k</title>');
    expect(svg).toContain('<title>cross-shard (PostgreSQL: uniform), PostgreSQL: 2.4k</title>');
  });

  it('puts a two-line group label on two lines', () => {
    expect(svg).toMatch(/<tspan [^>]*>cross-shard<\/tspan><tspan [^>]*dy="13">\(PostgreSQL: uniform\)<\/tspan>/);
  });

  it('renders an empty chart (nothing measured) without failing', () => {
    const empty = renderChart({ ...input, transfersPerSecond: input.transfersPerSecond.map((r) => r.map(() => null)), p99Ms: input.p99Ms.map((r) => r.map(() => null)) });
    expect(checkBalanced(empty)).toBeGreaterThan(5);
    expect(empty).not.toMatch(/NaN|Infinity/);
  });
});

describe('escapeXml', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['<tag>', '&lt;tag&gt;'],
    ['"q"', '&quot;q&quot;'],
  ])('%j → %j', (text, escaped) => expect(escapeXml(text)).toBe(escaped));
});
