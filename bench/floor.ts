// What this machine can do at all for small requests, with none of Tally's work: the floor under issue #19's
// targets. A child process runs a bare uWebSockets.js server (the gateway's package) that answers each binary
// frame with a frame of result size, either at once (`echo`) or after one durable LMDB commit shared by the frames
// of its event-loop turn (`commit`: a put per frame, lmdb-js joins a turn's puts into one transaction and
// resolves them after its fsync, as the shards' journals do). This process drives it with the load generator's
// own shapes over the same `ws` client: several sockets each keeping frames in flight (batch-1 throughput), and
// one frame in flight (light-load latency). No thread hop, no decode, no posting: whatever Tally does on top only
// adds to these figures. Usage: `npm run bench:floor -- [--seconds S] [--warmup S]`.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import uWS from '@trufflesuite/uws-js-unofficial';
import { open } from 'lmdb';
import WebSocket from 'ws';
import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { eventBytes } from '../src/core/limits.js';
import { resultBytes } from '../src/core/layout.js';
import { LatencyRecorder, msBetween } from './load/latency.js';
import { machineInfo } from './load/report.js';

const usage = `usage: node dist/bench/floor.js [--seconds S] [--warmup S]
  --seconds S   measured seconds per phase (default 8)
  --warmup S    seconds of warm-up before each phase (default 1)`;

type Mode = 'echo' | 'commit';

/** The load generator's shapes (bench/load/options.ts): batch 1 on 4 sockets × 64, light load one at a time. */
const shapes = [
  { name: 'batch 1, 4 sockets × 64 in flight', connections: 4, inFlight: 64 },
  { name: 'light load, 1 in flight', connections: 1, inFlight: 1 },
] as const;
/** A batch-1 create_transfers frame: the client's header and one 128-byte event (frame-codec.ts). */
const requestBytes = 24 + eventBytes;
const replyBytes = 24 + resultBytes;

interface Phase {
  mode: Mode;
  shape: string;
  framesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

// ---- the server (child process) ------------------------------------------------------------------

async function serve(mode: Mode): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-floor-'));
  // The journal's write mode (journal-store.ts): durable commits, no lmdb-js cache, binary values.
  const env = mode === 'commit' ? open({ path: dir }) : null;
  const db = env?.openDB<Uint8Array, number>({ name: 'journal', encoding: 'binary', keyEncoding: 'uint32', cache: false, compression: false }) ?? null;
  let seq = 0;
  const reply = new Uint8Array(replyBytes);
  const app = uWS.App().ws('/*', {
    maxPayloadLength: 1 << 20,
    message: (ws, message) => {
      if (db === null) {
        ws.send(reply, true);
        return;
      }
      const alive = { open: true };
      (ws as unknown as { alive: typeof alive }).alive ??= alive;
      const socket = (ws as unknown as { alive: typeof alive }).alive;
      void db.put(++seq, new Uint8Array(message.slice(0))).then(() => {
        if (socket.open) ws.send(reply, true);
      });
    },
    close: (ws) => {
      const socket = (ws as unknown as { alive?: { open: boolean } }).alive;
      if (socket !== undefined) socket.open = false;
    },
  });
  app.listen('127.0.0.1', 0, (listenSocket) => {
    if (!listenSocket) throw new Error('floor: the server could not listen');
    console.log(`listening ${uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket)}`);
  });
  process.on('SIGTERM', () => {
    void env?.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

// ---- the driver ----------------------------------------------------------------------------------

async function startServer(mode: Mode): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`floor: the ${mode} server exited (${String(code)}) before listening`)));
    child.stdout!.on('data', (data: Buffer) => {
      const match = /listening (\d+)/.exec(String(data));
      if (match !== null) resolve(Number(match[1]));
    });
  });
  return { child, port };
}

async function drive(port: number, connections: number, inFlight: number, warmupMs: number, durationMs: number): Promise<{ frames: number; latencies: LatencyRecorder }> {
  const frame = new Uint8Array(requestBytes);
  const latencies = new LatencyRecorder();
  const sockets = await Promise.all(
    Array.from({ length: connections }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
        socket.binaryType = 'nodebuffer';
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      }),
    ),
  );
  const startNs = process.hrtime.bigint();
  const measureFromNs = startNs + BigInt(warmupMs) * 1_000_000n;
  const measureToNs = measureFromNs + BigInt(durationMs) * 1_000_000n;
  let frames = 0;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          // Replies come back in order on a socket: one send time per frame in flight, oldest first.
          const sentAt: bigint[] = [];
          let open = 0;
          const send = () => {
            sentAt.push(process.hrtime.bigint());
            open++;
            socket.send(frame);
          };
          socket.on('message', () => {
            const nowNs = process.hrtime.bigint();
            const sentNs = sentAt.shift()!;
            open--;
            if (sentNs >= measureFromNs && nowNs <= measureToNs) {
              frames++;
              latencies.record(msBetween(sentNs, nowNs));
            }
            if (nowNs < measureToNs) send();
            else if (open === 0) resolve();
          });
          for (let i = 0; i < inFlight; i++) send();
        }),
    ),
  );
  for (const socket of sockets) socket.close();
  return { frames, latencies };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '--serve') {
    await serve(argv[1] === 'commit' ? 'commit' : 'echo');
    return -1; // keeps running until SIGTERM
  }
  const refuse = (message: string) => new Error(`${message}\n${usage}`);
  const { values } = parseFlags(argv, { seconds: { type: 'string' }, warmup: { type: 'string' }, help: { type: 'boolean' } }, refuse);
  if (values.help === true) {
    console.log(usage);
    return 0;
  }
  const seconds = integerOption('--seconds', values.seconds ?? '8', 1, 3600, refuse);
  const warmup = integerOption('--warmup', values.warmup ?? '1', 0, 600, refuse);
  const machine = machineInfo();
  console.log(`floor: bare uWebSockets.js server (child process), ws client here; ${machine.cpuCount} cores; ${seconds} s per phase after ${warmup} s of warm-up`);
  const phases: Phase[] = [];
  for (const mode of ['echo', 'commit'] as const) {
    const { child, port } = await startServer(mode);
    try {
      for (const shape of shapes) {
        const { frames, latencies } = await drive(port, shape.connections, shape.inFlight, warmup * 1000, seconds * 1000);
        const summary = latencies.summary();
        const phase = { mode, shape: shape.name, framesPerSecond: frames / seconds, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms };
        phases.push(phase);
        console.log(`  ${mode.padEnd(6)} ${shape.name}: ${Math.round(phase.framesPerSecond).toLocaleString('en-US')} frames/s, p50 ${phase.p50Ms.toFixed(2)} ms, p99 ${phase.p99Ms.toFixed(2)} ms`);
      }
    } finally {
      child.kill('SIGTERM');
    }
  }
  console.log('\n| server | shape | frames/s | p50 | p99 |\n|---|---|---|---|---|');
  for (const p of phases) console.log(`| ${p.mode} | ${p.shape} | ${Math.round(p.framesPerSecond).toLocaleString('en-US')} | ${p.p50Ms.toFixed(2)} ms | ${p.p99Ms.toFixed(2)} ms |`);
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'out');
  await mkdir(outDir, { recursive: true });
  const outPath = path.join(outDir, `floor-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(outPath, JSON.stringify({ mode: 'floor', machine, seconds, warmup, phases }, null, 2) + '\n');
  console.log(`\nresults written to ${path.relative(process.cwd(), outPath)}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
