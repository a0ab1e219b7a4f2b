/** Reading a ground-truth file for `junction customers evaluate` (the scoring itself: customers-cli.int.test.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTruth } from '../../../pipelines/unified/evaluate.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-truth-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function truthFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const BODY = 'source,stream,source_key,person_id\r\neval,s,a1,p1\r\neval,s,"a,2",p1\r\n';

describe('readTruth', () => {
  it.each([
    ['plain UTF-8', BODY],
    // What Excel's "CSV UTF-8" and PowerShell's UTF8 encoding write.
    ['UTF-8 with a byte order mark', `\uFEFF${BODY}`],
  ])('reads %s', (_what, text) => {
    expect([...readTruth(truthFile('t.csv', text))]).toEqual([
      ['eval\u001fs\u001fa1', 'p1'],
      ['eval\u001fs\u001fa,2', 'p1'],
    ]);
  });

  it('refuses another header with ID_TRUTH_INVALID at line 1', () => {
    const file = truthFile('bad.csv', '\uFEFFsource,stream,key,person\neval,s,a1,p1\n');
    expect(() => readTruth(file)).toThrow(expect.objectContaining({ code: 'ID_TRUTH_INVALID', where: { file, line: 1 } }));
  });
});
