// A sustained run's samples made up for the specs of bench/load/sustain-samples.ts and sustain-report.ts: a reading
// every `everySeconds` through `untilSeconds`, transfers posted at `rateAt(t)` per second, RssAnon `rssAt(t)` (null:
// not read) and VmRSS twice that, 200 bytes on disk per transfer held.

import { sampleOf, type SustainSample } from '../../bench/load/sustain-samples.js';

export function sustainSamples(everySeconds: number, untilSeconds: number, rateAt: (t: number) => number, rssAt: (t: number) => number | null): SustainSample[] {
  const samples: SustainSample[] = [];
  let posted = 0;
  for (let t = everySeconds; t <= untilSeconds; t += everySeconds) {
    posted += rateAt(t) * everySeconds;
    const rss = rssAt(t);
    const memory = rss === null ? null : { rssAnonBytes: rss, vmRssBytes: 2 * rss };
    samples.push(sampleOf('uniform', { elapsedMs: t * 1000, transfersPosted: posted, memory, dataDirBytes: 200 * (posted + 1000), transfersOnServer: posted + 1000 }, samples.at(-1) ?? null));
  }
  return samples;
}
