/**
 * Record paths against a WSDL's `describe()` tree: a path that is not there is named with
 * what is, and a tree that cannot tell (no elements described, anyType) does not refuse one.
 */
import { describe, expect, it } from 'vitest';
import { pathProblem, type Description } from '../../connectors/soap/wsdl-fields.js';

const LIST_OUTPUT: Description = {
  orders: { 'order[]': { orderNo: 'xsd:string', lines: { 'line[]': { qty: 'xsd:int' } }, targetNSAlias: 'tns', targetNamespace: 'urn:x' } },
  nextPageToken: 'xsd:string',
  payload: 'xsd:anyType',
  any: { targetNSAlias: 'tns', targetNamespace: 'urn:x' },
};

describe('pathProblem', () => {
  it.each([
    ['orders.order', undefined],
    ['orders.order.lines.line', undefined],
    ['order.orders', 'the response has no element order (it has orders, nextPageToken, payload, any)'],
    ['orders.orderz', 'orders has no element orderz (it has order)'],
    ['nextPageToken.value', 'nextPageToken is a simple value (xsd:string), it has no element value'],
    ['payload.item', undefined],
    ['any.item', undefined],
  ])('%s → %s', (path, problem) => {
    expect(pathProblem(LIST_OUTPUT, path)).toBe(problem);
  });

  it('an operation without a described output cannot be judged', () => {
    expect(pathProblem(undefined, 'orders.order')).toBeUndefined();
  });
});
