/** The normal forms identity keys meet in (shared by mappings and identity resolution). */
import { describe, expect, it } from 'vitest';
import { normalizeEmail, normalizePhone } from '../../pipelines/normalize.js';

describe('normalizePhone', () => {
  it.each([
    ['+86 138 0013 8000', 'CN', '+8613800138000'],
    ['13800138000', 'CN', '+8613800138000'],
    ['0086-138-0013-8000', 'CN', '+8613800138000'],
    ['138-0013-8000', 'CN', '+8613800138000'],
    [' 138 0013 8000 ', 'CN', '+8613800138000'],
    ['＋８６ １３８ ００１３ ８０００', 'CN', '+8613800138000'],
    [13800138000, 'CN', '+8613800138000'],
    // the region only applies to numbers written without a country code
    ['+852 5123 4567', 'CN', '+85251234567'],
    ['(415) 555-2671', 'US', '+14155552671'],
    ['13800138000', 'US', null],
    ['12345678901', 'CN', null],
    ['', 'CN', null],
    ['n/a', 'CN', null],
    [null, 'CN', null],
    [1.5, 'CN', null],
  ] as const)('%j in %s → %s', (value, region, expected) => {
    expect(normalizePhone(value, region)).toBe(expected);
    // a second call (cached) agrees
    expect(normalizePhone(value, region)).toBe(expected);
  });
});

describe('normalizeEmail', () => {
  it.each([
    ['Zhang.Wei@Example.COM', 'zhang.wei@example.com'],
    ['  zhangwei@qq.com ', 'zhangwei@qq.com'],
    ['ZHANGWEI@QQ.COM', 'zhangwei@qq.com'],
    ['ｚｈａｎｇ＠ｑｑ．ｃｏｍ', 'zhang@qq.com'],
    ['a+tag@sub.example.cn', 'a+tag@sub.example.cn'],
    ['no-at-sign', null],
    ['a@b', null],
    ['a b@c.com', null],
    ['', null],
    [42, null],
  ] as const)('%j → %s', (value, expected) => {
    expect(normalizeEmail(value)).toBe(expected);
  });
});
