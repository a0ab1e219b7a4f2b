/**
 * The agent console's third column (gateway/web/src/agent/customer-aside.tsx): nothing
 * selected, a linked conversation whose first context frame is on its way, and an
 * anonymous visitor's conversation each say something different.
 */
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';

// Computed specifier: the root tsconfig (no DOM, no JSX) must not follow it into gateway/web.
const ASIDE_MODULE = '../../gateway/web/src/agent/customer-aside.js';

type Props = { selected: boolean; linked: boolean; context: null };
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

  it('asks to select a conversation when none is', () => {
    expect(render({ selected: false, linked: false, context: null })).toContain('Select a conversation');
  });
});
