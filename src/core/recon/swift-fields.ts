// SWIFT MT940/MT942 text to messages of tagged fields (issue #17). Banks wrap and decorate the same fields
// differently: SWIFT blocks 1 to 3 before the text block `{4:`, which ends with `-}` and may be followed by block 5;
// SOH/ETX bytes (mBank); header lines before the first `:20:` (ING's routing line and `940 00`, Rabobank's
// `:940:`); `-` between messages, or no marker at all (a new `:20:` starts the next message). A field is `:TAG:`
// and its text, continued on the lines that do not start a field.

/** One field of a message: its tag (`61`, `60F`, `86`) and text (continuation lines joined with "\n"). */
export interface SwiftField {
  tag: string;
  text: string;
  /** 1-based line of the file where the field begins. */
  line: number;
}

export interface SwiftMessage {
  fields: SwiftField[];
  line: number;
}

const fieldStart = /^:([0-9]{2}[A-Z]?):(.*)$/;

/** The messages of `text`, each from its `:20:` to its end marker (or the next `:20:`). */
export function swiftMessages(text: string): SwiftMessage[] {
  const messages: SwiftMessage[] = [];
  let current: SwiftMessage | null = null;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((raw, i) => {
    // Envelope bytes and blocks carry no statement data.
    const line = raw.replace(/[\x01\x03]/g, '').replace(/^(\{[1-3]:[^}]*\})*\{4:/, '');
    // The end of a message: `-`, or `-}` closing the text block, block 5 after it.
    if (/^-\}?(\{5:.*)?$/.test(line)) {
      current = null;
      return;
    }
    const start = fieldStart.exec(line);
    if (start !== null) {
      const [, tag, rest] = start as unknown as [string, string, string];
      if (tag === '20') {
        current = { fields: [], line: i + 1 };
        messages.push(current);
      }
      current?.fields.push({ tag, text: rest, line: i + 1 });
      return;
    }
    // A header line (`:940:`, `940 00`, `0000 01…`) or a blank one outside a field's text; else a continuation.
    if (current === null || /^:[0-9]{3}:$/.test(line)) return;
    const last = current.fields[current.fields.length - 1];
    if (last !== undefined && line.trim() !== '') last.text += `\n${line}`;
  });
  return messages;
}
