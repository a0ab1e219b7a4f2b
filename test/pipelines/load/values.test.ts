/** The load stage's gate: a value its column cannot hold fails its record, never the batch. */
import { describe, expect, it } from 'vitest';
import { valueProblem } from '../../../pipelines/load/values.js';

describe('valueProblem', () => {
  it.each([
    ['datetime', '2024-05-17T08:00:00.000Z', null],
    ['datetime', '0001-01-01T00:00:00.000Z', null],
    // PostgreSQL has no year 0 (22008): it would fail the batch's COPY and every retry of it.
    ['datetime', '0000-01-01T00:00:00.000Z', 'expected an ISO-8601 datetime'],
    ['datetime', '2024-05-17T08:00:00', 'expected an ISO-8601 datetime'],
    ['date', '2024-05-17', null],
    ['date', '0000-01-01', 'expected YYYY-MM-DD'],
  ] as const)('%s %s', (type, value, problem) => {
    const got = valueProblem(value, type);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
  });
});
