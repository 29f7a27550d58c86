// npm run bench:http — the HTTP/JSON API's throughput next to the binary RPC's (issue #16), on one real server
// (`tally serve`, 2 shards, a temp data dir): the same random payments among funded accounts, in requests of
// --batch transfers, --in-flight requests at once, for --seconds each, alternated --rounds times. The binary path
// sends encoded frames through the client; the JSON path POSTs /v1/transfers with ids and amounts as strings.
// Prints transfers/s and request p50/p99 per path and the ratio JSON / binary.

import { connect } from '../src/client/index.js';
import { newId } from '../src/client/ids.js';
import type { TransferInput } from '../src/core/wire/records.js';
import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { startServerProcess } from '../test/support/server-process.js';
import { LatencyRecorder } from './load/latency.js';
import { machineInfo } from './load/report.js';

const usage = `usage: node dist/bench/http.js [--seconds S] [--batch N] [--in-flight N] [--rounds N] [--accounts N]`;
const ledger = 1;

async function main(): Promise<void> {
  const refuse = (message: string) => new Error(`${message}\n${usage}`);
  const { values } = parseFlags(process.argv.slice(2), { seconds: { type: 'string' }, batch: { type: 'string' }, 'in-flight': { type: 'string' }, rounds: { type: 'string' }, accounts: { type: 'string' } } as const, refuse);
  const seconds = integerOption('--seconds', values.seconds ?? '5', 1, 600, refuse);
  const batch = integerOption('--batch', values.batch ?? '100', 1, 8190, refuse);
  const inFlight = integerOption('--in-flight', values['in-flight'] ?? '8', 1, 256, refuse);
  const rounds = integerOption('--rounds', values.rounds ?? '2', 1, 20, refuse);
  const accountCount = integerOption('--accounts', values.accounts ?? '10000', 2, 1_000_000, refuse);
  const machine = machineInfo();
  console.log(`http bench: batch ${batch}, ${inFlight} in flight, ${seconds} s per phase, ${rounds} rounds, ${machine.cpuCount} cpus, ${machine.date}`);
  const server = await startServerProcess({ shardCount: 2, env: { TALLY_DAY_CUT: 'manual' } });
  const client = await connect({ url: server.url, timeoutMs: 60_000 });
  try {
    const accounts = Array.from({ length: accountCount }, () => newId());
    for (let i = 0; i < accounts.length; i += 8190) await client.createAccounts(accounts.slice(i, i + 8190).map((id) => ({ id, ledger, code: 1 })));
    const payments = (): TransferInput[] =>
      Array.from({ length: batch }, () => {
        const debit = accounts[Math.floor(Math.random() * accounts.length)]!;
        let credit = debit;
        while (credit === debit) credit = accounts[Math.floor(Math.random() * accounts.length)]!;
        return { id: newId(), debitAccountId: debit, creditAccountId: credit, amount: 1n + BigInt(Math.floor(Math.random() * 100)), ledger, code: 1 };
      });
    const binary = async (): Promise<number> => {
      const results = await client.createTransfers(payments());
      return results.filter((r) => r.result === 'ok').length;
    };
    const json = async (): Promise<number> => {
      const body = JSON.stringify(payments().map((t) => ({ id: String(t.id), debit_account_id: String(t.debitAccountId), credit_account_id: String(t.creditAccountId), amount: String(t.amount), ledger, code: 1 })));
      const response = await fetch(`${server.httpUrl}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const reply = (await response.json()) as { results?: { result: string }[] };
      if (response.status !== 200 || reply.results === undefined) throw new Error(`POST /v1/transfers answered ${response.status}: ${JSON.stringify(reply).slice(0, 300)}`);
      return reply.results.filter((r) => r.result === 'ok').length;
    };
    const rows: { path: string; round: number; perSecond: number; p50: number; p99: number }[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const [name, send] of [['binary RPC', binary], ['HTTP/JSON', json]] as const) {
        const latency = new LatencyRecorder();
        let ok = 0;
        const end = performance.now() + seconds * 1000;
        const lane = async (): Promise<void> => {
          while (performance.now() < end) {
            const started = performance.now();
            const posted = await send(); // not `ok += await send()`: that reads ok before the await and loses the other lanes' adds
            ok += posted;
            latency.record(performance.now() - started);
          }
        };
        const started = performance.now();
        await Promise.all(Array.from({ length: inFlight }, lane));
        const summary = latency.summary();
        rows.push({ path: name, round, perSecond: ok / ((performance.now() - started) / 1000), p50: summary.p50Ms, p99: summary.p99Ms });
        console.log(`round ${round} ${name}: ${Math.round(rows.at(-1)!.perSecond).toLocaleString('en-US')} transfers/s, p50 ${summary.p50Ms.toFixed(2)} ms, p99 ${summary.p99Ms.toFixed(2)} ms (${summary.samples} requests in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
    const total = (name: string) => rows.filter((r) => r.path === name).reduce((sum, r) => sum + r.perSecond, 0);
    console.log(`\nHTTP/JSON / binary RPC at batch ${batch}: ${(total('HTTP/JSON') / total('binary RPC')).toFixed(2)} (sum over ${rounds} rounds)`);
  } finally {
    await client.close();
    await server.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
