// A later part of a request run in parts (request stages, a hot-outbound account credited then debited): the parts
// before it are applied, so a failure here must not read as "nothing was done". A refusal of the whole part
// (overloaded: no shard ran it) is tried again for a while; any other failure, or one that lasts, is
// shard_unavailable with what happened (the caller resends: the ids make that safe).

import { ErrorCode, TallyError, errors } from '../../core/errors.js';
import { creditsLandingWaitMsMax } from '../../core/limits.js';

/** Runs `run`, the later part `label` of a request ("stage 2 of 3"), while `stopping` says the server goes on. */
export async function runLaterPart(run: () => Promise<Uint8Array>, label: string, stopping: () => boolean): Promise<Uint8Array> {
  const startedMs = performance.now();
  for (let backoffMs = 1; ; backoffMs = Math.min(backoffMs * 2, 50)) {
    try {
      return await run();
    } catch (error) {
      const refusedWhole = error instanceof TallyError && error.code === ErrorCode.overloaded;
      if (refusedWhole && !stopping() && performance.now() - startedMs < creditsLandingWaitMsMax) {
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        continue;
      }
      const why = error instanceof Error ? error.message : String(error);
      throw errors.partlyApplied(`${label} of this request failed (${why}) after the parts before it were applied`);
    }
  }
}
