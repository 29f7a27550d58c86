// The snapshot CLI against a real server process (run `npm run build` first). `tally snapshot` under load,
// `tally restore` elsewhere, `tally verify` on both, and the restored server answering every transfer
// acknowledged before the snapshot began; then the fault: the server killed with SIGKILL while a
// snapshot is being copied leaves its data directory usable (restart, every acknowledged transfer there,
// a new snapshot works) and the partial snapshot is refused by restore.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '../../src/client/client.js';
import type { TransferInput } from '../../src/core/wire/records.js';
import { manifestFileName } from '../../src/core/admin/snapshot-manifest.js';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { useTempDirs } from '../support/temp-dirs.js';

const ledger = 1;
const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.cleanup();
});
const tempDir = useTempDirs();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function start(dataDir?: string): Promise<ServerProcess> {
  const server = await startServerProcess({ shardCount: 2, ...(dataDir === undefined ? {} : { dataDir }) });
  servers.push(server);
  return server;
}

/** Runs the CLI to its end: exit code and both outputs. */
function tally(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function openAccounts(client: Client, count: number): Promise<bigint[]> {
  const ids = Array.from({ length: count }, (_, i) => BigInt(i + 1));
  const results = await client.createAccounts(ids.map((id) => ({ id, ledger, code: 1 })));
  expect(results.every((r) => r.result === 'ok')).toBe(true);
  return ids;
}

/** Posts batches until `stop()`; remembers each acknowledged transfer with when it was sent and answered. */
function postUntilStopped(client: Client, accounts: readonly bigint[], firstId: bigint) {
  const acked: { id: bigint; sentMs: number; ackedMs: number }[] = [];
  let running = true;
  let nextId = firstId;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const batch: TransferInput[] = [];
      for (let k = 0; k < 500; k++) {
        const debit = accounts[(i * 500 + k) % accounts.length]!;
        const credit = accounts[(i * 500 + k * 7 + 1) % accounts.length]!;
        if (debit !== credit) batch.push({ id: nextId++, debitAccountId: debit, creditAccountId: credit, amount: 1n + BigInt(k % 13), ledger, code: 1 });
      }
      const sentMs = Date.now();
      const results = await client.createTransfers(batch);
      const ackedMs = Date.now();
      results.forEach((r, j) => r.result === 'ok' && acked.push({ id: batch[j]!.id, sentMs, ackedMs }));
    }
  })();
  return {
    acked,
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function presentIds(client: Client, ids: readonly bigint[]): Promise<Set<bigint>> {
  const found = new Set<bigint>();
  for (let at = 0; at < ids.length; at += 8000) for (const t of await client.lookupTransfers(ids.slice(at, at + 8000))) found.add(t.id);
  return found;
}

describe('tally snapshot, restore and verify', () => {
  it('snapshots a server under load; the restore verifies and answers every transfer acknowledged before it', async () => {
    const server = await start();
    const client = await connect({ url: server.url });
    const accounts = await openAccounts(client, 40);
    const load = postUntilStopped(client, accounts, 1_000_000n);
    await sleep(500);
    const out = join(tempDir('tally-snapcli-'), 'snap');
    const beganMs = Date.now();
    const snapshot = await tally(['snapshot', '--out', out, '--url', server.url]);
    await sleep(200);
    await load.stop();
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stdout).toMatch(/snapshot done: .*\n {2}cut: shard 0 @ \d+, shard 1 @ \d+; shards held [\d.]+ ms/);
    expect(snapshot.stderr).toMatch(/snapshot \[#+\] 100%/); // the progress line's final state
    expect(existsSync(join(out, manifestFileName))).toBe(true);
    await client.close();
    await server.kill('SIGTERM');

    expect((await tally(['verify', '--data', server.dataDir])).code).toBe(0);
    expect((await tally(['restore', '--from', out, '--check'])).code).toBe(0);
    const restoredDir = join(tempDir('tally-snapcli-restored-'), 'data');
    const restore = await tally(['restore', '--from', out, '--data', restoredDir]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`restored ${out} into ${restoredDir}`);
    const verify = await tally(['verify', '--data', restoredDir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // A corrupted copy of the snapshot: refused by restore, naming the file, and nothing is written.
    const corrupted = join(tempDir('tally-snapcli-corrupt-'), 'snap');
    cpSync(out, corrupted, { recursive: true });
    const victim = join(corrupted, 'shard-0', 'data.mdb');
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)] ^= 0x5a;
    writeFileSync(victim, bytes);
    const refusedDir = join(tempDir('tally-snapcli-refused-'), 'data');
    const refused = await tally(['restore', '--from', corrupted, '--data', refusedDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refused: ${victim}: checksum mismatch`);
    expect(existsSync(refusedDir)).toBe(false);

    const restored = await start(restoredDir);
    const again = await connect({ url: restored.url });
    try {
      const before = load.acked.filter((t) => t.ackedMs < beganMs).map((t) => t.id);
      expect(before.length).toBeGreaterThan(0);
      const found = await presentIds(again, before);
      expect(before.filter((id) => !found.has(id))).toEqual([]);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('a server killed during a snapshot keeps a usable data directory, and restore refuses the partial snapshot', async () => {
    const server = await start();
    const client = await connect({ url: server.url });
    const accounts = await openAccounts(client, 40);
    // Enough journal that the copy takes a while (the kill must land during it).
    const acked: bigint[] = [];
    for (let round = 0; round < 30; round++) {
      const batch: TransferInput[] = Array.from({ length: 8000 }, (_, k) => ({ id: BigInt(round * 8000 + k + 1), debitAccountId: accounts[k % 40]!, creditAccountId: accounts[(k + 1) % 40]!, amount: 1n, ledger, code: 1 }));
      const results = await client.createTransfers(batch);
      results.forEach((r, k) => r.result === 'ok' && acked.push(batch[k]!.id));
    }
    expect(acked.length).toBe(240_000);
    const snapshots = tempDir('tally-snapcli-killed-');
    let partial: string | null = null;
    for (let attempt = 0; attempt < 5 && partial === null; attempt++) {
      const out = join(snapshots, `snap-${attempt}`);
      await client.startSnapshot(out);
      for (;;) {
        const status = (await client.getSnapshotStatus())!;
        if (status.state !== 'running') break; // finished before we saw the copy: try again with more
        // Once the copy has written something: killed before its first file, the target is merely empty.
        if ((status.phase === 'copying' || status.phase === 'checksums') && existsSync(out) && readdirSync(out).length > 0) {
          await server.kill('SIGKILL');
          partial = out;
          break;
        }
      }
    }
    expect(partial, 'the kill landed while a snapshot was being copied').not.toBeNull();
    await client.close().catch(() => undefined);

    const refused = await tally(['restore', '--from', partial!, '--data', join(snapshots, 'restored')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: .*manifest\.json is missing: a partial snapshot/);
    expect(existsSync(join(snapshots, 'restored'))).toBe(false);

    await server.restart();
    const again = await connect({ url: server.url });
    try {
      const found = await presentIds(again, acked);
      expect(found.size).toBe(acked.length);
      const out = join(snapshots, 'after-restart');
      await again.startSnapshot(out);
      let status = (await again.getSnapshotStatus())!;
      for (let i = 0; i < 400 && status.state === 'running'; i++) {
        await sleep(50);
        status = (await again.getSnapshotStatus())!;
      }
      expect(status.state, status.error ?? '').toBe('done');
      expect((await tally(['restore', '--from', out, '--check'])).code).toBe(0);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('tally serve refuses a --backup-dir inside its data directory, also through a symlink, before touching either', async () => {
    const root = tempDir('tally-backup-dir-');
    const data = join(root, 'data');
    mkdirSync(data);
    symlinkSync(data, join(root, 'to-data'));
    const refused = await tally(['serve', '--port', '0', '--data', data, '--backup-dir', join(root, 'to-data', 'backups')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--backup-dir .*backups is inside the data directory/);
    expect(existsSync(join(data, 'backups'))).toBe(false);
    expect(existsSync(join(data, 'admin'))).toBe(false);
  });
});
