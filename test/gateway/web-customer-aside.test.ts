/**
 * The agent console's third column (gateway/web/src/agent/customer-aside.tsx): nothing
 * selected, a linked conversation whose first context frame is on its way, an anonymous
 * visitor's conversation, and one that is no longer the agent's each say something different.
 */
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';

// Computed specifier: the root tsconfig (no DOM, no JSX) must not follow it into gateway/web.
const ASIDE_MODULE = '../../gateway/web/src/agent/customer-aside.js';

type Context = { type: 'context'; conversationId: number; customerId: number; reason: 'linked'; parts: Record<string, unknown> };
type Props = { selected: boolean; yours?: boolean; linked: boolean; context: Context | null };
let CustomerAside: FunctionComponent<Props>;

beforeAll(async () => {
  ({ CustomerAside } = (await import(/* @vite-ignore */ ASIDE_MODULE)) as { CustomerAside: FunctionComponent<Props> });
});

const render = (props: Props) => renderToStaticMarkup(createElement(CustomerAside, props));

describe('customer aside', () => {
  it('is the Customer landmark in every state', () => {
    for (const props of [{ selected: false, linked: false }, { selected: true, linked: true }, { selected: true, linked: false }]) {
      expect(render({ ...props, context: null })).toMatch(/^<aside [^>]*aria-label="Customer"/);
    }
  });

  it('says the customer is loading for a linked conversation without its context yet', () => {
    const html = render({ selected: true, linked: true, context: null });
    expect(html).toContain('Loading the customer');
    expect(html).toContain('aria-busy="true"');
    expect(html).not.toContain('No customer linked');
  });

  it('says an anonymous visitor has no customer', () => {
    const html = render({ selected: true, linked: false, context: null });
    expect(html).toContain('No customer linked');
    expect(html).not.toContain('Loading the customer');
  });

  it('shows nothing of the customer of a conversation transferred away, even with its context at hand', () => {
    const context: Context = {
      type: 'context', conversationId: 1, customerId: 5, reason: 'linked',
      parts: { customer: { asOf: '2026-03-02T08:00:00Z', stale: false, data: { id: 5, fields: { name: 'Ann Secret' }, lineage: {}, attributes: {}, records: [] } } },
    };
    expect(render({ selected: true, linked: true, context })).toContain('Ann Secret');
    const html = render({ selected: true, yours: false, linked: true, context });
    expect(html).toContain('no longer yours');
    expect(html).not.toContain('Ann Secret');
    expect(html).not.toContain('Loading the customer');
  });

  it('asks to select a conversation when none is', () => {
    expect(render({ selected: false, linked: false, context: null })).toContain('Select a conversation');
  });
});
