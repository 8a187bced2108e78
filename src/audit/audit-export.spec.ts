import { describe, expect, it } from 'vitest';
import { AuditRecordView, csvCell, csvHeader, csvRow, ndjsonRow } from './audit-export.js';

const record: AuditRecordView = {
  id: '7',
  created_at: '2026-01-01T00:00:00.000Z',
  actor_type: 'user',
  actor_id: 'u1',
  action: 'auth.login',
  resource: 'user',
  resource_id: null,
  status: 'failure',
  ip: '10.0.0.1',
  user_agent: 'curl/8, "quoted"',
  request_id: 'r1',
  details: { reason: 'bad_password' },
  seq: null,
  prev_hash: null,
  hash: null,
};

describe('audit export formats', () => {
  it('quotes cells with commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '=HYPERLINK("http://x","y")'])(
    'neutralises a formula-like cell %j with a leading apostrophe',
    (value) => {
      const cell = csvCell(value);
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replaceAll('""', '"') : cell;
      expect(unquoted).toBe(`'${value}`);
    },
  );

  it('writes a header and one CRLF-terminated row per record, details as JSON', () => {
    expect(csvHeader().startsWith('id,created_at,actor_type,')).toBe(true);
    expect(csvRow(record)).toBe(
      '7,2026-01-01T00:00:00.000Z,user,u1,auth.login,user,,failure,10.0.0.1,"curl/8, ""quoted""",r1,"{""reason"":""bad_password""}",,,\r\n',
    );
  });

  it('writes NDJSON: one JSON object per line', () => {
    const line = ndjsonRow(record);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(record);
  });
});
