// Where a worker of src/recon runs from: the compiled file beside this module's, also when this module runs from
// source (tests under vitest): a worker thread runs compiled code.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/src/recon/`name`.js (`name` without extension). */
export function reconWorkerFile(name: string): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return join(dirname(here), `${name}.js`);
  const compiled = join(resolve(dirname(here), '..', '..'), 'dist', 'src', 'recon', `${name}.js`);
  if (!existsSync(compiled)) throw new Error(`worker not built: ${compiled} is missing (run npm run build)`);
  return compiled;
}
