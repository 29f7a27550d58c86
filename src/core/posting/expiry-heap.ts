// Min-heap of pending-transfer deadlines. Ties break by insertion order, so replaying the same
// journal expires the same transfers in the same order.

import { assert } from '../assert.js';

export interface ExpiryItem {
  expiresAtNs: bigint;
  order: number;
  key: string;
}

export class ExpiryHeap {
  private readonly items: ExpiryItem[] = [];
  private orderNext = 0;

  get size(): number {
    return this.items.length;
  }

  push(expiresAtNs: bigint, key: string): void {
    this.items.push({ expiresAtNs, order: this.orderNext++, key });
    this.siftUp(this.items.length - 1);
  }

  /** The heap as it stands (array order is part of the state: ties pop by it) and the next insertion order. */
  exportItems(): { items: readonly ExpiryItem[]; orderNext: number } {
    return { items: this.items, orderNext: this.orderNext };
  }

  /** A fresh heap takes exportItems' items, in their order. */
  restoreItems(items: readonly ExpiryItem[], orderNext: number): void {
    assert(this.items.length === 0 && this.orderNext === 0, 'an expiry heap is restored while empty');
    for (const item of items) this.items.push({ ...item });
    this.orderNext = orderNext;
  }

  peek(): ExpiryItem | undefined {
    return this.items[0];
  }

  pop(): ExpiryItem | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private less(a: ExpiryItem, b: ExpiryItem): boolean {
    return a.expiresAtNs < b.expiresAtNs || (a.expiresAtNs === b.expiresAtNs && a.order < b.order);
  }

  private siftUp(index: number): void {
    const items = this.items;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(items[index]!, items[parent]!)) return;
      [items[index], items[parent]] = [items[parent]!, items[index]!];
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const items = this.items;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < items.length && this.less(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && this.less(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === index) return;
      [items[index], items[smallest]] = [items[smallest]!, items[index]!];
      index = smallest;
    }
  }
}
