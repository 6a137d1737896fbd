import { describe, expect, it } from 'vitest';
import { CsvRecords, type CsvEvent } from '../../src/sources/csv-records.js';

function parse(lines: string[], opts: Partial<{ quote: string; delimiter: string; maxLines: number }> = {}): CsvEvent[] {
  const r = new CsvRecords({ delimiter: opts.delimiter ?? ',', quote: opts.quote ?? '"', maxLines: opts.maxLines ?? 1000, maxBytes: 1 << 20 });
  const out: CsvEvent[] = [];
  lines.forEach((text, i) => r.push({ lineNo: i + 1, text }, out));
  r.end(out);
  return out;
}
const summary = (es: CsvEvent[]): unknown[] => es.map((e) => (e.kind === 'record' ? [e.lineNo, e.fields] : [e.lineNo, 'malformed']));

describe('CSV records from physical lines', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks; an empty unquoted field is null', () => {
    expect(summary(parse(['a,b,c', '1,"x, ""y""",', '2,"two', '', 'lines",z']))).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', 'x, "y"', null]],
      [3, ['2', 'two\n\nlines', 'z']],
    ]);
  });

  it('a quote inside an unquoted field is text', () => {
    expect(summary(parse(['a,b', 'he said "hi",1']))).toEqual([
      [1, ['a', 'b']],
      [2, ['he said "hi"', '1']],
    ]);
  });

  it('an unterminated quote at the end of the file costs its first line only; the lines it swallowed are read again', () => {
    expect(summary(parse(['a,b', '1,"open', '2,x', '3,y']))).toEqual([
      [1, ['a', 'b']],
      [2, 'malformed'],
      [3, ['2', 'x']],
      [4, ['3', 'y']],
    ]);
  });

  it('a quoted field still open after the line limit fails, and reading resumes on the next line', () => {
    const lines = ['a,b', '1,"open', ...Array.from({ length: 10 }, (_, i) => `${i},v${i}`)];
    const es = parse(lines, { maxLines: 4 });
    expect(es.filter((e) => e.kind === 'malformed').map((e) => e.lineNo)).toEqual([2]);
    expect(es.filter((e) => e.kind === 'record')).toHaveLength(11);
  });

  it('a wrong field count is malformed; with quoting off (TSV) every line is one record', () => {
    expect(summary(parse(['a,b', '1,2,3', '4,5']))).toEqual([
      [1, ['a', 'b']],
      [2, 'malformed'],
      [3, ['4', '5']],
    ]);
    expect(summary(parse(['a\tb', '"x\ty', 'z\tw'], { quote: '', delimiter: '\t' }))).toEqual([
      [1, ['a', 'b']],
      [2, ['"x', 'y']],
      [3, ['z', 'w']],
    ]);
  });
});
