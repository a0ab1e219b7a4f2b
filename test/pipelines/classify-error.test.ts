/** How a failed sync's error is recorded (run rows, job failure reasons): the code, and where it came from. */
import { describe, expect, it } from 'vitest';
import { JunctionError } from '../../config/errors.js';
import { classifyError, codeOfFailure, failureText } from '../../pipelines/classify-error.js';

describe('classifyError', () => {
  it("keeps a coded error's origin (source and record key, or file:line) in the text that is stored", () => {
    const keyed = classifyError(new JunctionError('CONN_CURSOR', 'cursor value "yesterday" does not parse', { where: { source: 'tickets_php', key: '100042' } }));
    expect(keyed.message).toBe('cursor value "yesterday" does not parse (at tickets_php key=100042)');
    const filed = classifyError(new JunctionError('MAP_EVAL_FAILED', 'boom', { where: { file: 'mappings/m.yaml', line: 12 } }));
    expect(filed.message).toBe('boom (at mappings/m.yaml:12)');
    expect(codeOfFailure(failureText(keyed))).toBe('CONN_CURSOR');
  });

  it('leaves an error without an origin as it is', () => {
    expect(classifyError(new JunctionError('CONN_TIMEOUT', 'no answer in 5 s', { retryable: true }))).toEqual({ code: 'CONN_TIMEOUT', message: 'no answer in 5 s', retryable: true, sourceFault: true });
  });
});
