// Text as GB18030 bytes for tests (issue #17: Alipay writes its bills in GBK/GB18030). Node's TextEncoder writes
// UTF-8 only, so the table is built once from Node's own decoder: every two-byte GBK code (lead 0x81–0xFE, trail
// 0x40–0xFE) decoded, fatal, and turned round. ASCII is itself; a character outside the two-byte range throws.

const decoder = new TextDecoder('gb18030', { fatal: true });
let table: Map<string, number> | null = null;

function tableOf(): Map<string, number> {
  if (table !== null) return table;
  table = new Map();
  const pair = new Uint8Array(2);
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      let text: string;
      try {
        text = decoder.decode(pair);
      } catch {
        continue;
      }
      if (text.length === 1 && !table.has(text)) table.set(text, (lead << 8) | trail);
    }
  }
  return table;
}

export function gb18030Bytes(text: string): Buffer {
  const codes = tableOf();
  const out: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) {
      out.push(code);
      continue;
    }
    const pair = codes.get(char);
    if (pair === undefined) throw new Error(`${JSON.stringify(char)} has no two-byte GB18030 code`);
    out.push(pair >> 8, pair & 0xff);
  }
  return Buffer.from(out);
}
