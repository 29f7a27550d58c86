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

/** Starts `size` routed JetStream nodes (file storage) and waits until the cluster has a meta leader. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-nats-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, freePort));
  const routePorts = await Promise.all(Array.from({ length: size }, freePort));
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`).join(',');
  const nodes: NatsNode[] = clientPorts.map((port, i) => {
    const name = `n${i}`;
    const args = ['-a', '127.0.0.1', '-p', String(port), '-n', name, '-js', '-sd', join(dir, name)];
    if (size > 1) args.push('--cluster_name', 'tally-test', '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes);
    const child = spawn(natsServerBinary, args, { stdio: 'ignore' });
    return { name, args, url: `nats://127.0.0.1:${port}`, process: child };
  });
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((node) => node.url),
    connect: (which = nodes) => connect({ servers: which.map((node) => node.url), reconnectTimeWait: 100, maxReconnectAttempts: -1 }),
    async kill(node) {
      node.process.kill('SIGKILL');
      await exited(node.process);
    },
    revive(node) {
      node.process = spawn(natsServerBinary, node.args, { stdio: 'ignore' });
    },
    async stop() {
      for (const node of nodes) node.process.kill('SIGTERM');
      await Promise.all(nodes.map((node) => exited(node.process)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitReady(cluster);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Resolves once JetStream answers on the cluster (its meta leader elected); throws after readyWaitMsMax. */
async function waitReady(cluster: NatsCluster): Promise<void> {
  const deadline = Date.now() + readyWaitMsMax;
  let last: unknown = null;
  while (Date.now() < deadline) {
    for (const node of cluster.nodes) if (node.process.exitCode !== null) throw new Error(`nats-server ${node.name} exited with ${node.process.exitCode}`);
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
