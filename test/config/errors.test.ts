/** The README's error table lists exactly the codes of config/errors.ts (and nothing stale). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { ERROR_CODES, JunctionError } from '../../config/errors.js';

describe('error catalogue', () => {
  it('matches the README table', () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z]+_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('codes are prefixed by their area', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^(CFG|MAP|CONN|SYNC|GW|STACK|MIG|DEMO|JOB|OPS|ID|CLI)_[A-Z0-9_]+$/);
  });

  it('formats file:line:col path, message and code', () => {
    const err = new JunctionError('CFG_UNKNOWN_KEY', 'unknown key "x"', { where: { file: 'config/junction.yaml', line: 3, col: 5, path: 'sources.a' } });
    expect(err.format()).toBe('config/junction.yaml:3:5 sources.a: unknown key "x" [CFG_UNKNOWN_KEY]');
  });

  it('escapes control characters of the place (a YAML key or a record key with terminal escapes cannot drive the terminal)', () => {
    const key = '\u001b[2J\u001b[31mok: 5 sources\u001b[0m\u0000';
    const inPath = new JunctionError('CFG_UNKNOWN_KEY', 'unknown key', { where: { file: 'm.yaml', line: 2, col: 1, path: `fields.${key}` } });
    expect(inPath.format()).toBe('m.yaml:2:1 fields.\\u001b[2J\\u001b[31mok: 5 sources\\u001b[0m\\u0000: unknown key [CFG_UNKNOWN_KEY]');
    const inRecord = new JunctionError('MAP_MISSING_KEY', 'no key', { where: { source: 'shop', key: `A\rB\u009b` } });
    expect(inRecord.format()).toBe('shop key=A\\u000dB\\u009b: no key [MAP_MISSING_KEY]');
    // In the message too, but for line breaks and tabs (a message may quote a log's last lines).
    const inMessage = new JunctionError('CFG_UNKNOWN_KEY', 'unknown key "\u009b2J\u007f"\nlog:\tline', { where: { file: 'm.yaml' } });
    expect(inMessage.format()).toBe('m.yaml: unknown key "\\u009b2J\\u007f"\nlog:\tline [CFG_UNKNOWN_KEY]');
  });
});
