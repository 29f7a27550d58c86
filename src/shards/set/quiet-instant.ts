// A quiet instant across the shards (issue #14): no transfer request in flight and no credit between shards, so
// every shard's state is what one shard would hold. Day cuts and snapshot barriers start from one: transfer
// requests arriving wait (RequestRouting.quiet), those in flight are answered, the relay lands every credit
// (TransitRelay.idle); then `run` runs and the held requests start in arrival order. Bounded: past
// dayCutQuietMsMax (a shard down, the relay far behind) `run` goes ahead with what is in flight, and a warning says so.

import { dayCutQuietMsMax } from '../../core/limits.js';
import type { TransitRelay } from '../relay/transit-relay.js';
import type { RequestRouting } from './request-routing.js';

/** Runs `run` at a quiet instant; `what` names the caller in the warning when the instant could not be made in time. */
export type QuietInstant = <T>(what: string, run: () => Promise<T>) => Promise<T>;

export function quietInstant(routing: Pick<RequestRouting, 'quiet'>, transit: Pick<TransitRelay, 'idle'>, waitMsMax = dayCutQuietMsMax): QuietInstant {
  return (what, run) => {
    const deadline = performance.now() + waitMsMax;
    return routing.quiet(waitMsMax, async (settled) => {
      const landed = settled && (await transit.idle(Math.max(0, deadline - performance.now())).then(() => true, () => false));
      if (!landed) console.error(JSON.stringify({ level: 'warn', msg: `${what}: transfers or credits between shards did not settle within ${waitMsMax} ms; going ahead with them in flight` }));
      return run();
    });
  };
}
