/** The frame union, its violations and close codes, and PROTOCOL.md kept in step with them. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { ERROR_CODES } from '../../config/errors.js';
import { CLIENT_FRAME_TYPES, CLOSE, parseClientFrame, serverFrameSchema } from '../../gateway/protocol.js';

describe('parseClientFrame', () => {
  it.each([
    ['hello without resume points', { type: 'hello' }, { type: 'hello', resume: {} }],
    ['hello with resume points', { type: 'hello', resume: { '12': 7 } }, { type: 'hello', resume: { '12': 7 } }],
    ["a visitor's first message", { type: 'msg', clientMsgId: 'c-1', text: 'hi' }, { type: 'msg', clientMsgId: 'c-1', text: 'hi' }],
    ['typing defaults to on', { type: 'typing', conversationId: 3 }, { type: 'typing', conversationId: 3, on: true }],
    ['transfer to a team', { type: 'transfer', conversationId: 3, toTeam: 'billing' }, { type: 'transfer', conversationId: 3, toTeam: 'billing' }],
  ])('accepts %s', (_what, input, output) => {
    expect(parseClientFrame(JSON.stringify(input))).toEqual({ ok: true, frame: output });
  });

  it.each([
    ['not JSON', '{"type":', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['a JSON array', '[1,2]', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['no type', '{"text":"x"}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['an unknown type', '{"type":"subscribe"}', 'GW_UNKNOWN_TYPE', CLOSE.UNKNOWN_TYPE],
    ['an unknown key (strict)', '{"type":"ack","conversationId":1,"seq":2,"extra":true}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['a conversation id as a string', '{"type":"ack","conversationId":"1","seq":2}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['an empty text', '{"type":"msg","clientMsgId":"a","text":""}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['a clientMsgId with spaces', '{"type":"msg","clientMsgId":"a b","text":"x"}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['a transfer naming both agent and team', '{"type":"transfer","conversationId":1,"toAgentId":2,"toTeam":"x"}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['a resume point that is not an id', '{"type":"hello","resume":{"abc":1}}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    // PostgreSQL text and jsonb cannot hold U+0000: it would fail the whole group-commit batch.
    ['a text with U+0000', '{"type":"msg","clientMsgId":"a","text":"a\\u0000b"}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
    ['a page url with U+0000', '{"type":"msg","clientMsgId":"a","text":"x","page":{"url":"https://x/\\u0000"}}', 'GW_BAD_FRAME', CLOSE.BAD_FRAME],
  ])('refuses %s', (_what, text, code, close) => {
    const r = parseClientFrame(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.violation.code, r.violation.close]).toEqual([code, close]);
  });

  it('server frames validate (the test client checks every frame it receives with this)', () => {
    expect(serverFrameSchema.safeParse({ type: 'ack', clientMsgId: 'a', conversationId: 1, seq: 1, at: 'now', duplicate: false }).success).toBe(true);
    expect(serverFrameSchema.safeParse({ type: 'ack', clientMsgId: 'a', conversationId: 1, seq: 0, at: 'now', duplicate: false }).success).toBe(false);
  });
});

describe('PROTOCOL.md', () => {
  const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'gateway/PROTOCOL.md'), 'utf8');

  it('documents every client frame type, close code and GW_ error code', () => {
    for (const type of CLIENT_FRAME_TYPES) expect(doc).toContain(`\`${type}\``);
    for (const code of Object.values(CLOSE)) expect(doc).toContain(`| ${code} |`);
    for (const code of Object.keys(ERROR_CODES).filter((c) => c.startsWith('GW_'))) expect(doc).toContain(`\`${code}\``);
  });

  it('documents every server frame type', () => {
    for (const option of serverFrameSchema.options) {
      const type = (option.shape.type as unknown as { value: string }).value;
      expect(doc).toContain(`\`${type}\``);
    }
  });
});
