// A map from id keys (see u128.idKey) to values, partitioned so that no single V8 Map ever
// reaches its 16,777,216-entry limit. The partition is chosen by a hash of the whole key, so
// ids that share some bits (say, all multiples of 2^64) still spread over every partition.

import { idMapPartitions } from '../limits.js';

export class IdMap<V> {
  private readonly partitions: Map<string, V>[] = [];
  private entryCount = 0;

  constructor() {
    for (let i = 0; i < idMapPartitions; i++) this.partitions.push(new Map());
  }

  get size(): number {
    return this.entryCount;
  }

  get(key: string): V | undefined {
    return this.partition(key).get(key);
  }

  has(key: string): boolean {
    return this.partition(key).has(key);
  }

  set(key: string, value: V): void {
    const partition = this.partition(key);
    if (!partition.has(key)) this.entryCount++;
    partition.set(key, value);
  }

  delete(key: string): void {
    if (this.partition(key).delete(key)) this.entryCount--;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const partition of this.partitions) yield* partition.entries();
  }

  private partition(key: string): Map<string, V> {
    let hash = 0;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return this.partitions[(hash >>> 0) % idMapPartitions]!;
  }
}
