/** Routing rules (first match wins, every condition must hold) and the least-loaded pick under capacity. */
import { describe, expect, it } from 'vitest';
import { compileRouting, languageMatches } from '../../gateway/routing.js';
import { pickAgent } from '../../gateway/store/assignment.js';
import { testSettings } from './helpers.js';

const route = compileRouting(
  testSettings({
    default_team: 'support',
    routing: [
      { team: 'billing', match: 'refund|退款' },
      { team: 'logistics', match: 'where is', page: '/orders/' },
      { team: 'vip', page: '^https://shop\\.example\\.com/vip/' },
      { team: 'english', language: ['en'] },
    ],
  }),
);

describe('compileRouting', () => {
  it.each([
    ['a regex on the first message (case-insensitive)', 'I want a REFUND', {}, 'billing', 0],
    ['a Chinese keyword', '我要退款', {}, 'billing', 0],
    ['the first matching rule wins', 'refund please', { language: 'en' }, 'billing', 0],
    ['all conditions of a rule must hold', 'where is my parcel', { url: 'https://shop.example.com/orders/42' }, 'logistics', 1],
    ['a rule whose page does not match is skipped', 'where is my parcel', { url: 'https://shop.example.com/help' }, 'support', null],
    ['a page rule without a page is skipped', 'hello', {}, 'support', null],
    ['the page alone', 'hello', { url: 'https://shop.example.com/vip/lounge' }, 'vip', 2],
    ['a language prefix', 'hello', { language: 'en-GB' }, 'english', 3],
    ['another language', 'hello', { language: 'zh-CN' }, 'support', null],
    ['nothing matches: the default team', 'hello', {}, 'support', null],
  ])('%s', (_what, firstText, page, team, rule) => {
    expect(route({ firstText, page })).toEqual({ team, rule });
  });

  it('matches language tags by prefix of whole subtags', () => {
    expect(languageMatches('zh', 'zh-Hant-TW')).toBe(true);
    expect(languageMatches('zh', 'zha')).toBe(false);
    expect(languageMatches('zh-CN', 'zh-cn')).toBe(true);
    expect(languageMatches('zh-CN', 'zh')).toBe(false);
  });

  it('refuses a rule without any condition at config load', () => {
    expect(() => testSettings({ routing: [{ team: 'billing' }] })).toThrow(/at least one of match, page, language/);
  });
});

describe('pickAgent', () => {
  it.each([
    ['the least loaded', [{ agentId: 1, capacity: 5, open: 3 }, { agentId: 2, capacity: 5, open: 1 }], 2],
    ['ties go to the lowest id', [{ agentId: 7, capacity: 5, open: 1 }, { agentId: 3, capacity: 5, open: 1 }], 3],
    ['full agents are skipped', [{ agentId: 1, capacity: 2, open: 2 }, { agentId: 2, capacity: 5, open: 4 }], 2],
    ['capacity 0 never takes one', [{ agentId: 1, capacity: 0, open: 0 }], null],
    ['nobody free', [{ agentId: 1, capacity: 1, open: 1 }], null],
    ['nobody online', [], null],
  ])('%s', (_what, loads, expected) => {
    expect(pickAgent(loads)?.agentId ?? null).toBe(expected);
  });
});
