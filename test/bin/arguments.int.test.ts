/**
 * Arguments refused before anything runs, through the real CLI: limits on sizes, empty values
 * that would otherwise mean something else, malformed record names. Each exits 1 with the
 * reason (and nothing is read or written: the stack is not even needed for most).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('junction arguments refused', () => {
  it.each([
    ['sync --batch-size over 50000 (one batch is one transaction)', ['sync', 'shop_pg.accounts', '--inline', '--batch-size', '50001'], /--batch-size <n>' argument '50001' is invalid\. expected at most 50000/],
    ['read --batch-size over 50000', ['read', 'shop_pg.accounts', '--batch-size', '99999999999'], /--batch-size <n>' argument '99999999999' is invalid\. expected at most 50000/],
    ['mapping preview --limit over 10000', ['mapping', 'preview', 'mappings/shop_pg.accounts.yaml', '--limit', '10001'], /--limit <n>' argument '10001' is invalid\. expected at most 10000/],
    ['check --config "" (not the project config)', ['check', '--config', ''], /--config names no file \(an empty value\) \[CLI_USAGE\]/],
    ['customers show with an empty query', ['customers', 'show', '  '], /the query is empty: .* \[CLI_USAGE\]/],
    ['customers unmerge --source-record not source/stream/key', ['customers', 'unmerge', '15', '--source-record', 'x'], /--source-record <source\/stream\/key>' argument 'x' is invalid\. expected source\/stream\/key/],
  ])('%s', async (_what, args, reason) => {
    const res = await runCli(args);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(reason);
  });
});
