// `tally close-day --day D`: a day that is no real date is a usage error (exit 2) before anything connects,
// so a typo never reaches the server; the server refuses such days too (core/wire/wire.ts, shards/shard/day-book.ts).

import { describe, expect, it } from 'vitest';
import { closeDayCommand } from '../../../src/cli/close-day.js';
import { UsageError } from '../../../src/cli/serve-options.js';

describe('tally close-day --day', () => {
  it.each(['20261301', '20260230', '20250229', '2026-12-32', '1231', 'tomorrow'])('refuses %s as a usage error without connecting', async (day) => {
    // No server listens on port 9: a connection attempt would fail with another error.
    await expect(closeDayCommand(['--url', 'ws://127.0.0.1:9', '--day', day], {})).rejects.toSatisfy((error) => error instanceof UsageError && /--day must be a real date/.test(error.message));
  });
});
