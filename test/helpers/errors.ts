/** The JunctionError a promise rejects with (the test fails if it resolves or rejects with anything else). */
import { expect } from 'vitest';
import { JunctionError } from '../../config/errors.js';

export async function errorOf(promise: Promise<unknown>): Promise<JunctionError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JunctionError);
  return err as JunctionError;
}
