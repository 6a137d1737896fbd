/** What the assembler made of the physical lines it was given. */
export type CsvEvent = { kind: 'record'; lineNo: number; fields: (string | null)[]; raw: string } | { kind: 'malformed'; lineNo: number; detail: string; raw: string };

export interface CsvDialect {
  delimiter: string;
  /** '' turns quoting off: every physical line is one record. */
  quote: string;
  /** A quoted field may span lines, but no record spans more lines or bytes than this. */
  maxLines: number;
  maxBytes: number;
}

interface Line {
  lineNo: number;
  text: string;
}

/**
 * Assembles CSV/TSV records from physical lines (RFC 4180, with a quote inside an unquoted field
 * taken as text). A record that cannot be parsed costs its first physical line and nothing more:
 * that line is reported malformed and the lines after it are read again as new records. So an
 * unterminated quote in one tweet never swallows the rest of the file, and every physical line ends
 * in a record, a malformed row or a continuation line of a record. A record is also malformed when
 * its field count differs from the header's, or when a quote is still open after `maxLines` lines.
 */
export class CsvRecords {
  private lines: Line[] = [];
  private bytes = 0;
  private fields: (string | null)[] = [];
  private cur = '';
  private quoted = false;
  private inQuote = false;
  /** The field count every record must have (the header's, or the first record's). */
  columns: number | null = null;

  constructor(private readonly d: CsvDialect) {}

  /** Whether a record is open across lines (a blank line is then part of a field). */
  get open(): boolean {
    return this.lines.length > 0;
  }

  push(line: Line, out: CsvEvent[]): void {
    const queue = [line];
    while (queue.length > 0) {
      const l = queue.shift()!;
      this.lines.push(l);
      this.bytes += l.text.length;
      const err = this.feed(l.text);
      if (err === null && this.inQuote) {
        if (this.lines.length >= this.d.maxLines || this.bytes > this.d.maxBytes)
          queue.unshift(...this.fail(`a quoted field opened on line ${this.lines[0]!.lineNo} is not closed within ${this.lines.length} lines (${this.bytes} characters)`, out));
        else this.cur += '\n';
        continue;
      }
      if (err !== null) {
        queue.unshift(...this.fail(err, out));
        continue;
      }
      this.endField('');
      const n = this.fields.length;
      if (this.columns !== null && n !== this.columns) {
        queue.unshift(...this.fail(`expected ${this.columns} fields, found ${n}`, out));
        continue;
      }
      this.columns ??= n;
      out.push({ kind: 'record', lineNo: this.lines[0]!.lineNo, fields: this.fields, raw: this.lines.map((x) => x.text).join('\n') });
      this.reset();
    }
  }

  /** The end of the input (or a line that could not be decoded): an open record fails, its later lines are read again. */
  end(out: CsvEvent[]): void {
    while (this.open) {
      const rest = this.fail(`a quoted field opened on line ${this.lines[0]!.lineNo} is never closed`, out);
      for (const l of rest) this.push(l, out);
    }
  }

  /** Reports the open record's first line as malformed and returns its other lines, to be read again. */
  private fail(detail: string, out: CsvEvent[]): Line[] {
    const [first, ...rest] = this.lines;
    out.push({ kind: 'malformed', lineNo: first!.lineNo, detail, raw: first!.text });
    this.reset();
    return rest;
  }

  private reset(): void {
    this.lines = [];
    this.bytes = 0;
    this.fields = [];
    this.cur = '';
    this.quoted = false;
    this.inQuote = false;
  }

  /** Continues the open record with one line; returns why it is malformed, or null. */
  private feed(text: string): string | null {
    const { delimiter: dl, quote: q } = this.d;
    if (!this.inQuote && (q === '' || text.indexOf(q) < 0)) {
      // The common line: no quote, one split.
      const parts = text.split(dl);
      this.cur += parts[0]!;
      for (let k = 1; k < parts.length; k++) this.endField(parts[k]!);
      return null;
    }
    for (let i = 0; i < text.length; i++) {
      if (this.inQuote) {
        const close = text.indexOf(q, i);
        if (close < 0) {
          this.cur += text.slice(i);
          return null;
        }
        this.cur += text.slice(i, close);
        if (text[close + 1] === q) {
          this.cur += q;
          i = close + 1;
          continue;
        }
        this.inQuote = false;
        i = close + 1;
        if (i < text.length && !text.startsWith(dl, i))
          return `character ${i + 1} of line ${this.lines.at(-1)!.lineNo}: text after the closing quote of a field (a quote inside a quoted field must be doubled)`;
        if (i < text.length) {
          this.endField('');
          i += dl.length - 1;
        }
        continue;
      }
      if (text.startsWith(dl, i)) {
        this.endField('');
        i += dl.length - 1;
      } else if (text[i] === q && this.cur === '' && !this.quoted) {
        this.inQuote = true;
        this.quoted = true;
      } else this.cur += text[i];
    }
    return null;
  }

  /** Closes the current field and starts the next with `start`. */
  private endField(start: string): void {
    this.fields.push(this.quoted ? this.cur : this.cur === '' ? null : this.cur);
    this.cur = start;
    this.quoted = false;
  }
}
