// The gateway runs on uWebSockets.js's native build or not at all (issue #16): on a Node the package has no build
// for, the server refuses to start with the Node found, the ones supported and what to do, never the polyfill.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { nativeAbis, nativeGatewayProblem, nativeUws } from '../../../src/gateway/native-uws.js';

const binaries = mkdtempSync(join(tmpdir(), 'tally-uws-binaries-'));
for (const name of ['uws_linux_x64_108.node', 'uws_linux_x64_115.node', 'uws_darwin_arm64_115.node', 'uws_linux_x64_93.node']) writeFileSync(join(binaries, name), '');
afterAll(() => rmSync(binaries, { recursive: true, force: true }));

describe('the native gateway guard', () => {
  test('a Node with a native build for its platform passes', () => {
    expect(nativeGatewayProblem(binaries, '115', '20.20.2', 'linux', 'x64')).toBeNull();
    expect(nativeAbis(binaries, 'linux', 'x64')).toEqual(['93', '108', '115']);
  });

  test('a Node without one is refused, naming it, the versions that have one and what to do', () => {
    const problem = nativeGatewayProblem(binaries, '137', '24.1.0', 'linux', 'x64');
    expect(problem).toContain('Node 24.1.0 (module ABI 137)');
    expect(problem).toContain('Native builds here: Node 16, Node 18, Node 20.');
    expect(problem).toContain('does not start');
    expect(problem).toContain('nvm install 20');
  });

  test('a platform without any build says so', () => {
    expect(nativeGatewayProblem(binaries, '115', '20.20.2', 'freebsd', 'x64')).toContain('no native build for freebsd-x64 at all');
  });

  test('on this machine the native module loads (SSLApp present, no polyfill)', () => {
    expect(typeof nativeUws().SSLApp).toBe('function');
    expect(typeof nativeUws().us_socket_local_port).toBe('function');
  });
});
