// The arrows of the house, checked on the real imports (issue #21). Every folder of src/ that holds code has
// a README.md whose `May import:` line names what its code may import: a layer's README (src/core, src/shards, src/recon,
// src/gateway, src/admin, src/client, src/cli) names other layers; a subsystem's README (src/core/posting, …)
// names units of its own layer, where the layer's name stands for the files directly in the layer's folder
// (core's base). Imports are read with the TypeScript compiler's own pre-processor (type-only imports, export …
// from and import() count: a type is a dependency too). Checked: every import follows a declared arrow, every
// declared arrow is used (the READMEs stay true), the declared arrows never form a cycle, core imports no
// package and no node:*, src imports nothing from test/ or bench/, and no file of src, bench or test is in an
// import cycle.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

type Graph = ReadonlyMap<string, readonly string[]>;

/** Source files under `dir` (repo-relative, `/`-separated), declaration files left out. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Imports {
  /** Repo-relative files this one imports. */
  files: string[];
  /** Packages and node:* modules. */
  bare: string[];
}

function importsOf(file: string): Imports {
  const found = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true).importedFiles.map((ref) => ref.fileName);
  const files: string[] = [];
  const bare: string[] = [];
  for (const specifier of found) {
    if (!specifier.startsWith('.')) {
      bare.push(specifier);
      continue;
    }
    const target = resolve(root, dirname(file), specifier);
    const resolved = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')].find((path) => existsSync(path));
    if (resolved === undefined) throw new Error(`${file} imports ${specifier}, which is no file`);
    files.push(relative(root, resolved).split('\\').join('/'));
  }
  return { files, bare };
}

/** Every cycle of a directed graph, one per strongly connected component of more than one node (Tarjan). */
function cyclesIn(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** A file's unit: its folder under src/ (`core`, `core/posting`, `gateway`, …). */
const unitOf = (file: string): string => dirname(file).slice('src/'.length);
const layerOf = (unit: string): string => unit.split('/')[0]!;

/** What a unit's README.md allows: the names on its `May import:` line (none for `nothing`). */
function declaredImports(unit: string): string[] {
  const readme = join(root, 'src', unit, 'README.md');
  if (!existsSync(readme)) throw new Error(`src/${unit} holds code but has no README.md saying what it owns and may import`);
  const line = readFileSync(readme, 'utf8')
    .split('\n')
    .find((text) => text.startsWith('May import: '));
  if (line === undefined) throw new Error(`src/${unit}/README.md has no "May import: " line`);
  const list = line.slice('May import: '.length);
  if (list.startsWith('nothing')) return [];
  return [...list.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

/** An arrow a README allows: between whole layers (from a layer's README) or between units of one layer. */
interface Arrow {
  from: string;
  to: string;
}

function arrowsOf(unit: string, knownUnits: ReadonlySet<string>): Arrow[] {
  const layer = layerOf(unit);
  return declaredImports(unit).map((name): Arrow => {
    if (name === layer) {
      if (unit === layer) throw new Error(`src/${unit}/README.md lists its own layer`);
      return { from: unit, to: name };
    }
    if (!name.includes('/')) {
      if (unit !== layer) throw new Error(`src/${unit}/README.md names the layer ${name}: only a layer's README decides what it may import of other layers`);
      if (!existsSync(join(root, 'src', name, 'README.md'))) throw new Error(`src/${unit}/README.md names ${name}, which is no layer`);
      return { from: unit, to: name };
    }
    if (layerOf(name) !== layer || !knownUnits.has(name)) throw new Error(`src/${unit}/README.md names ${name}, which is no unit of src/${layer}`);
    return { from: unit, to: name };
  });
}

/** Imports that follow no declared arrow, and declared arrows no import follows. */
function checkArrows(edges: readonly (readonly [string, string])[], arrows: readonly Arrow[]): { undeclared: string[]; unused: string[] } {
  const allowed = new Set(arrows.map((arrow) => `${arrow.from} -> ${arrow.to}`));
  const used = new Set<string>();
  const undeclared: string[] = [];
  for (const [from, to] of edges) {
    const [unitFrom, unitTo] = [unitOf(from), unitOf(to)];
    if (unitFrom === unitTo) continue;
    const [layerFrom, layerTo] = [layerOf(unitFrom), layerOf(unitTo)];
    const arrow = layerFrom === layerTo ? `${unitFrom} -> ${unitTo}` : `${layerFrom} -> ${layerTo}`;
    if (allowed.has(arrow)) used.add(arrow);
    else undeclared.push(`${from} imports ${to}, but ${arrow} is not declared (src/${arrow.split(' ')[0]}/README.md)`);
  }
  return { undeclared, unused: [...allowed].filter((arrow) => !used.has(arrow)) };
}

const files = [...sourceFiles('src'), ...sourceFiles('bench'), ...sourceFiles('test')];
const imports = new Map(files.map((file) => [file, importsOf(file)]));
const srcFiles = files.filter((file) => file.startsWith('src/'));
const units = new Set(srcFiles.map(unitOf));
const layers = new Set([...units].map(layerOf));
const arrows = [...new Set([...units, ...layers])].sort().flatMap((unit) => arrowsOf(unit, units));
const srcEdges = srcFiles.flatMap((file) => imports.get(file)!.files.map((to) => [file, to] as const));

describe('layering', () => {
  it('every folder of src holding code has a README saying what it may import', () => {
    expect([...units].filter((unit) => !existsSync(join(root, 'src', unit, 'README.md')))).toEqual([]);
    expect([...layers].sort()).toEqual(['admin', 'cli', 'client', 'core', 'gateway', 'recon', 'settle', 'shards']);
  });

  it('core imports no package and no node:* module', () => {
    const outside = srcFiles.filter((file) => layerOf(unitOf(file)) === 'core').flatMap((file) => imports.get(file)!.bare.map((name) => `${file} imports ${name}`));
    expect(outside).toEqual([]);
  });

  it('src imports nothing from test/ or bench/', () => {
    expect(srcEdges.filter(([, to]) => !to.startsWith('src/')).map(([from, to]) => `${from} imports ${to}`)).toEqual([]);
  });

  it('every import follows an arrow its README declares, and every declared arrow is used', () => {
    const { undeclared, unused } = checkArrows(srcEdges, arrows);
    expect(undeclared).toEqual([]);
    expect(unused.map((arrow) => `${arrow} is declared but no import uses it`)).toEqual([]);
  });

  it('the declared arrows point one way: no layer or unit reaches itself', () => {
    const declared = new Map<string, string[]>();
    for (const { from, to } of arrows) declared.set(from, [...(declared.get(from) ?? []), to]);
    expect(cyclesIn(declared)).toEqual([]);
  });

  it('no file of src, bench or test is in an import cycle', () => {
    expect(cyclesIn(new Map([...imports].map(([file, { files: to }]) => [file, to])))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find a cycle, and only the files in it', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesIn(graph)).toEqual([['a', 'b', 'c']]);
    expect(cyclesIn(new Map([['a', ['a']]]))).toEqual([['a']]);
    expect(cyclesIn(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('refuse an undeclared arrow, within a layer and across layers, and name an unused one', () => {
    const declared: Arrow[] = [
      { from: 'core/posting', to: 'core' },
      { from: 'shards', to: 'core' },
      { from: 'core/books', to: 'core/posting' },
    ];
    const { undeclared, unused } = checkArrows(
      [
        ['src/core/posting/ledger.ts', 'src/core/assert.ts'],
        ['src/core/posting/ledger.ts', 'src/core/posting/ledger-state.ts'],
        ['src/core/posting/ledger.ts', 'src/core/books/vouchers.ts'],
        ['src/shards/shard/shard-loop.ts', 'src/core/posting/ledger.ts'],
        ['src/shards/set/shard-set.ts', 'src/gateway/ledger-service.ts'],
      ],
      declared,
    );
    expect(undeclared).toEqual([
      'src/core/posting/ledger.ts imports src/core/books/vouchers.ts, but core/posting -> core/books is not declared (src/core/posting/README.md)',
      'src/shards/set/shard-set.ts imports src/gateway/ledger-service.ts, but shards -> gateway is not declared (src/shards/README.md)',
    ]);
    expect(unused).toEqual(['core/books -> core/posting']);
  });
});
