/** The process logger: secrets masked everywhere, errors kept actionable (code and where they came from). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JunctionError } from '../../config/errors.js';
import { createLogger } from '../../config/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination, secrets: ['hunter22-secret'] }) };
}

describe('createLogger', () => {
  it("keeps a JunctionError's code, where and details, with secrets masked in them", () => {
    const { lines, log } = capture();
    const err = new JunctionError('CONN_CURSOR', 'cursor of hunter22-secret does not parse', {
      where: { source: 'tickets_php', key: '100042' },
      details: { url: 'postgres://u:pw@h/db?password=hunter22-secret' },
    });
    log.warn({ err }, 'batch failed');
    expect(lines[0]!.err).toMatchObject({
      message: 'cursor of *** does not parse',
      code: 'CONN_CURSOR',
      where: { source: 'tickets_php', key: '100042' },
      details: { url: 'postgres://u:***@h/db?password=***' },
    });
  });

  it('masks URL query passwords in messages and fields', () => {
    const { lines, log } = capture();
    log.info({ url: 'redis://127.0.0.1:16379/0?password=s3cret' }, 'connecting to redis://h/0?password=s3cret');
    expect(JSON.stringify(lines[0])).not.toContain('s3cret');
  });
});
