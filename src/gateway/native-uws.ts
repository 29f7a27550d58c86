// uWebSockets.js, native or not at all (issue #16). The package (`@trufflesuite/uws-js-unofficial`) ships native
// builds for a few Node ABIs only and, on any other Node, prints a warning and falls back to a polyfill on `ws`:
// slower than every figure we publish and without SSLApp (`--tls-cert` then fails on "mismatched keys"). The
// gateway loads the native binary itself, so a Node without one stops the server at start with what to do.

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UWS from '@trufflesuite/uws-js-unofficial';

const packageName = '@trufflesuite/uws-js-unofficial';
/** Node's major version for each module ABI the package has builds of (process.versions.modules). */
const nodeOfAbi: Readonly<Record<string, string>> = { '93': '16', '108': '18', '115': '20', '120': '21', '127': '22', '131': '23', '137': '24' };

export class NativeGatewayMissing extends Error {}

/** The ABIs the installed package has a native build of for this platform and architecture. */
export function nativeAbis(binaries: string, platform = process.platform, arch = process.arch): string[] {
  const prefix = `uws_${platform}_${arch}_`;
  return readdirSync(binaries)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.node'))
    .map((name) => name.slice(prefix.length, -'.node'.length))
    .sort((a, b) => Number(a) - Number(b));
}

/** Why this Node cannot run the gateway natively, as a message for an operator; null when it can. */
export function nativeGatewayProblem(binaries: string, abi = process.versions.modules, node = process.versions.node, platform = process.platform, arch = process.arch): string | null {
  if (existsSync(join(binaries, `uws_${platform}_${arch}_${abi}.node`))) return null;
  const supported = nativeAbis(binaries, platform, arch).map((found) => (nodeOfAbi[found] === undefined ? `ABI ${found}` : `Node ${nodeOfAbi[found]}`));
  return (
    `tally: the gateway (${packageName}) has no native build for Node ${node} (module ABI ${abi}) on ${platform}-${arch}; ` +
    `it would fall back to a slow polyfill without TLS, so Tally does not start. ` +
    (supported.length === 0 ? `This install has no native build for ${platform}-${arch} at all. ` : `Native builds here: ${supported.join(', ')}. `) +
    `Run Tally on a supported Node (package.json "engines"), e.g. with nvm: nvm install 20 && nvm use 20.`
  );
}

const require = createRequire(import.meta.url);

function load(): typeof UWS {
  const binaries = join(dirname(require.resolve(`${packageName}/package.json`)), 'binaries');
  const problem = nativeGatewayProblem(binaries);
  if (problem !== null) throw new NativeGatewayMissing(problem);
  return require(join(binaries, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`)) as typeof UWS;
}

/** The native module, loaded on first use (a CLI command that never listens does not need it). */
let loaded: typeof UWS | null = null;
export function nativeUws(): typeof UWS {
  loaded ??= load();
  return loaded;
}
