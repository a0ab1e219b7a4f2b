/**
 * The stale badge of a customer panel part (gateway/web/src/agent/panel/stale-badge.tsx, as
 * panel-section.tsx places it): a part stale because the source fails or is slow says since
 * when; one stale because syncs spent the source's shared rate window
 * (`GW_LOOKUP_RATE_LIMITED`: the lookup was not even tried) says it is rate limited and the
 * time of the data shown, not that the source is failing.
 */
import { createElement, type FunctionComponent, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';

// Computed specifier: the root tsconfig (no DOM, no JSX) must not follow it into gateway/web.
const SECTION_MODULE = '../../gateway/web/src/agent/panel/panel-section.js';

type Part = { asOf: string | null; stale: boolean; staleSince: string | null; error: string | null; data: string[] | null };
let PanelSection: FunctionComponent<{ title: string; part: Part | null; now: number; children: (data: string[]) => ReactNode }>;

beforeAll(async () => {
  ({ PanelSection } = (await import(/* @vite-ignore */ SECTION_MODULE)) as { PanelSection: typeof PanelSection });
});

const NOW = Date.parse('2026-03-02T08:30:00Z');
const SYNCED = '2026-03-02T08:00:00Z';
const render = (part: Part) => renderToStaticMarkup(createElement(PanelSection, { title: 'Orders', part, now: NOW, children: (rows: string[]) => rows.join(', ') }));
/** The text of an HTML fragment: the visible badge and its (hidden) tooltip alike. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
/** The badge's own text (the tooltip's target). */
const badgeOf = (html: string) => textOf(/<span tabindex="0" class="cp-tip-target cp-stale"[^>]*>([^<]*)<\/span>/.exec(html)?.[1] ?? '');
const stale = (error: string): Part => ({ asOf: SYNCED, stale: true, staleSince: '2026-03-02T08:29:00Z', error, data: ['SO-1 shipped'] });

describe('the stale badge of a panel part', () => {
  it('says a rate-limited part is rate limited and shown as of its data, not that the source is failing', () => {
    const html = render(stale('GW_LOOKUP_RATE_LIMITED'));
    expect(badgeOf(html)).toMatch(/^rate limited — shown as of \S/);
    const text = textOf(html);
    expect(text).toContain('GW_LOOKUP_RATE_LIMITED');
    expect(text).not.toMatch(/stale since|not answering|failing since/);
    expect(text).toContain('SO-1 shipped');
  });

  it.each(['GW_LOOKUP_TIMEOUT', 'GW_LOOKUP_CIRCUIT_OPEN', 'CONN_UNREACHABLE'])('says a part stale with %s is stale since the source started failing', (error) => {
    const html = render(stale(error));
    expect(badgeOf(html)).toMatch(/^stale since \S/);
    expect(textOf(html)).toMatch(new RegExp(`not answering \\(${error}\\).*failing since`));
  });

  it('shows no badge on a part that is not stale', () => {
    expect(render({ asOf: SYNCED, stale: false, staleSince: null, error: null, data: [] })).not.toContain('cp-stale');
  });
});
