// The README's client example must be exactly examples/quickstart.mjs, which an e2e test runs.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

it('README shows examples/quickstart.mjs verbatim', () => {
  expect(read('README.md')).toContain(read('examples/quickstart.mjs').trim());
});

it('README shows examples/adjustment.mjs verbatim', () => {
  expect(read('README.md')).toContain(read('examples/adjustment.mjs').trim());
});

it('README gives the two fresh-machine commands that CI and users run', () => {
  const readme = read('README.md');
  expect(readme).toContain('npm ci && npm start');
  expect(readme).toContain('npm ci && npm test');
  expect(read('.ci/run')).toMatch(/npm ci\nnpm test/);
});
