// Runs tasks one after another in the order they were given, each once the one before has settled (a
// failed task does not stop the next). The shard set's day closings and snapshot barriers share one, so a
// day cut never straddles a snapshot's cut. It bounds nothing: its callers bound how many wait.

const noop = (): void => {};

export class OneAtATime {
  /** Settles once the last task given so far has settled. */
  #last: Promise<void> = Promise.resolve();

  /** Runs `task` after every task given before it; answers what `task` answers. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#last.then(task);
    this.#last = result.then(noop, noop);
    return result;
  }
}
