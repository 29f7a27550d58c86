// A throwaway NATS JetStream cluster for tests (issue #15): `nats-server` (Debian's package) started N times on free
// loopback ports, each with its own temp store directory, routed to the others; stopped and removed after. Never
// the machine's shared instance (127.0.0.1:4222), whose state a test must not depend on or change.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

/** Where Debian installs the server (the machines have it); TALLY_NATS_SERVER overrides. */
const natsServerBinary = process.env.TALLY_NATS_SERVER ?? '/usr/sbin/nats-server';
/** How long a cluster may take to elect its JetStream meta leader before the start fails. */
const readyWaitMsMax = 20_000;

export interface NatsNode {
  name: string;
  /** The server's arguments (its ports and store directory), to start it again. */
  args: string[];
  /** Client URL: nats://127.0.0.1:port. */
  url: string;
  process: ChildProcess;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL (a client given them all follows the cluster). */
  urls: string[];
  /** Connects a client to the given nodes (default: all). */
  connect(nodes?: readonly NatsNode[]): Promise<NatsConnection>;
  /** Kills one node (SIGKILL) and resolves once its process is gone. */
  kill(node: NatsNode): Promise<void>;
  /** Starts a killed node again on its own ports and store. */
  revive(node: NatsNode): void;
  /** Stops every node and removes every store directory. */
  stop(): Promise<void>;
}

/** A free loopback TCP port (the OS picks it; closed again before the server binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** How many times a start is tried on fresh ports before it fails: a port picked free can be taken before the server binds it. */
const startAttemptsMax = 3;

/**
 * Starts `size` routed JetStream nodes (file storage) and waits until the cluster has a meta leader. A node that exits
 * during the start (most often a port another test took between our pick and its bind) makes the whole cluster start
 * again on fresh ports; the last failure names the node and ends with what it printed.
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    const cluster = await spawnCluster(size);
    try {
      await waitReady(cluster);
      return cluster;
    } catch (error) {
      await cluster.stop();
      if (!(error instanceof NodeExitedError) || attempt >= startAttemptsMax) throw error;
    }
  }
}

class NodeExitedError extends Error {}

/** Keeps the last few KiB a server printed, to say why it exited. */
function spawnServer(args: readonly string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(natsServerBinary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  return { child, output: () => tail };
}

const outputOf = new WeakMap<ChildProcess, () => string>();

async function spawnCluster(size: number): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-nats-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, freePort));
  const routePorts = await Promise.all(Array.from({ length: size }, freePort));
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`).join(',');
  const start = (args: readonly string[]): ChildProcess => {
    const { child, output } = spawnServer(args);
    outputOf.set(child, output);
    return child;
  };
  const nodes: NatsNode[] = clientPorts.map((port, i) => {
    const name = `n${i}`;
    const args = ['-a', '127.0.0.1', '-p', String(port), '-n', name, '-js', '-sd', join(dir, name)];
    if (size > 1) args.push('--cluster_name', 'tally-test', '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes);
    return { name, args, url: `nats://127.0.0.1:${port}`, process: start(args) };
  });
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    connect: (which = nodes) => connect({ servers: which.map((node) => node.url), reconnectTimeWait: 100, maxReconnectAttempts: -1 }),
    async kill(node) {
      node.process.kill('SIGKILL');
      await exited(node.process);
    },
    revive(node) {
      node.process = start(node.args);
    },
    async stop() {
      for (const node of nodes) node.process.kill('SIGTERM');
      await Promise.all(nodes.map((node) => exited(node.process)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once JetStream answers on the cluster (its meta leader elected); throws after readyWaitMsMax. */
async function waitReady(cluster: NatsCluster): Promise<void> {
  const deadline = Date.now() + readyWaitMsMax;
  let last: unknown = null;
  while (Date.now() < deadline) {
    for (const node of cluster.nodes) {
      if (node.process.exitCode === null) continue;
      const printed = outputOf.get(node.process)?.().trim().split('\n').slice(-3).join(' | ') ?? '';
      throw new NodeExitedError(`nats-server ${node.name} exited with ${node.process.exitCode}: ${printed}`);
    }
    let nc: NatsConnection | null = null;
    try {
      nc = await connect({ servers: cluster.urls, timeout: 1_000 });
      const jsm = await jetstreamManager(nc, { timeout: 1_000 });
      await jsm.getAccountInfo();
      return;
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await nc?.close();
    }
  }
  throw new Error(`the NATS cluster was not ready within ${readyWaitMsMax} ms: ${String(last)}`);
}
