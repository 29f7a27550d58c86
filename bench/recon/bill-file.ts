// Writes the reconciliation bench's WeChat Pay trade bill (issue #17) to a file as a stream: the lines of
// test/support/wechat-bill.ts, joined a chunk at a time (a million rows make ~250 MB, never one string), the summary
// computed from the rows written. Memory: one chunk of text at a time.

import { open } from 'node:fs/promises';
import { assert } from '../../src/core/assert.js';
import { billHeader, billLine, billSettledFen, billSummary } from '../../test/support/wechat-bill.js';
import { billRowsOf, type DayPlan } from './day-plan.js';

/** Characters of bill text joined before one write: big enough that writes cost nothing, small next to the bill. */
const chunkCharsMax = 4 * 1024 * 1024;

export interface BillFileStats {
  rows: number;
  bytes: number;
  settledFen: number;
  refundFen: number;
}

/** Writes the bill of `plan`'s day (`day` yyyymmdd, `dayText` 'YYYY-MM-DD') to `path`; `onProgress` hears payments done. */
export async function writeBillFile(path: string, plan: DayPlan, day: number, dayText: string, onProgress: (payments: number) => void = () => {}): Promise<BillFileStats> {
  const file = await open(path, 'w');
  const stats: BillFileStats = { rows: 0, bytes: 0, settledFen: 0, refundFen: 0 };
  let chunk = `${billHeader}\n`;
  const flush = async (): Promise<void> => {
    const bytes = Buffer.from(chunk, 'utf8');
    await file.write(bytes, 0, bytes.byteLength);
    stats.bytes += bytes.byteLength;
    chunk = '';
  };
  try {
    for (let p = 0; p < plan.payments; p++) {
      for (const row of billRowsOf(plan, day, p)) {
        chunk += `${billLine(dayText, row)}\n`;
        stats.rows++;
        stats.settledFen += billSettledFen(row);
        stats.refundFen += row.refund ?? 0;
      }
      if (chunk.length >= chunkCharsMax) {
        await flush();
        onProgress(p + 1);
      }
    }
    // Fen sums as JS numbers: exact while they stay safe integers (1M rows of ≤ 1,000 yuan are 1e11 fen).
    assert(Number.isSafeInteger(stats.settledFen) && Number.isSafeInteger(stats.refundFen), 'the bill sums stay exact');
    chunk += `${billSummary(stats.rows, stats.settledFen, stats.refundFen)}\n`;
    await flush();
    onProgress(plan.payments);
  } finally {
    await file.close();
  }
  return stats;
}
