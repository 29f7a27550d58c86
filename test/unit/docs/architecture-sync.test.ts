// docs/ARCHITECTURE.md must name the code as it is: its module map lists every folder of src/ and no other,
// and every source file or folder the page cites exists (a path like `core/posting/ledger.ts`, read from src/
// or the repository root, or a bare file name like `validate.ts`, found anywhere in src/).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const architecture = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');

/** Repo-relative paths of the files under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`],
  );
}

/** Repo-relative paths (ending in `/`) of the folders under `dir`. */
function foldersUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? [`${dir}/${entry.name}/`, ...foldersUnder(`${dir}/${entry.name}`)] : [],
  );
}

const srcFiles = filesUnder('src').filter((file) => file.endsWith('.ts'));
const srcFolders = foldersUnder('src').sort();

/** The folders the module map names: `src/x/` at the start of a line, `y/` indented under the last one. */
function moduleMapFolders(page: string): string[] {
  const section = page.slice(page.indexOf('## Module map'));
  const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4));
  const folders: string[] = [];
  let layer = '';
  for (const line of block.split('\n')) {
    const top = /^(src\/[\w-]+\/)\s/.exec(line);
    const sub = /^ {2}([\w-]+\/)\s/.exec(line);
    if (top !== null) folders.push((layer = top[1]!));
    else if (sub !== null) folders.push(layer + sub[1]!);
  }
  return folders.sort();
}

/** Paths the page cites that should be code: `core/…`, `src/…`, `shards/…`, `test/…` and bare `*.ts` names. */
function citedPaths(page: string): string[] {
  const cited = page.match(/(?<![\w./-])(?:src|core|shards|gateway|admin|client|cli|test|bench)\/[\w./-]*[\w/]/g) ?? [];
  const bare = page.match(/(?<![\w./-])[\w-]+\.ts\b/g) ?? [];
  return [...new Set([...cited, ...bare])];
}

function exists(path: string): boolean {
  if (!path.includes('/')) return srcFiles.some((file) => basename(file) === path);
  const withoutCall = path.replace(/\.[a-zA-Z]+$/, (suffix) => (suffix === '.ts' || suffix === '.md' || suffix === '.json' ? suffix : ''));
  return [path, withoutCall, `${withoutCall}.ts`].some((candidate) => existsSync(join(root, candidate)) || existsSync(join(root, 'src', candidate)));
}

it('the module map names every folder of src, and only those', () => {
  expect(srcFolders.length).toBeGreaterThan(20);
  expect(moduleMapFolders(architecture)).toEqual(srcFolders);
});

it('every source path the page cites exists', () => {
  expect(citedPaths(architecture).filter((path) => !exists(path))).toEqual([]);
});

it('a moved or missing file is caught', () => {
  const page = '## Module map\n```\nsrc/core/   base\n  posting/  ledger\n  nowhere/  gone\n```\n`core/route-plan.ts`, `core/posting/ledger.execute`, `validate.ts`, `vanished.ts`';
  expect(moduleMapFolders(page)).toEqual(['src/core/', 'src/core/nowhere/', 'src/core/posting/']);
  expect(citedPaths(page).filter((path) => !exists(path))).toEqual(['core/route-plan.ts', 'vanished.ts']);
});
