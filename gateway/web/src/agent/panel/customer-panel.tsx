/**
 * The agent console's customer panel: what the `context` frame says about the customer linked
 * to the open conversation (gateway/PROTOCOL.md "Context panel"). The console renders it inside
 * `<aside aria-label="Customer">`; this renders the content only. Each part is shown on its
 * own with its as-of time and stale state, so one failing source never hides the others.
 */
import { useMemo } from 'react';
import type { ContextFrame } from '../../shared/chat-client.js';
import { Crm } from './crm.js';
import { GoldenRecord } from './golden-record.js';
import { Identities } from './identities.js';
import { Orders } from './orders.js';
import { PanelSection } from './panel-section.js';
import { readParts } from './read-parts.js';
import { Tickets } from './tickets.js';
import { useNow } from '../use-now.js';
import './panel.css';

export function CustomerPanel({ context }: { context: ContextFrame | null }) {
  const now = useNow();
  const data = useMemo(() => (context ? readParts(context) : null), [context]);
  if (!data) {
    return (
      <div className="cp cp-empty">
        <h2>Customer</h2>
        <p>No customer linked to this conversation</p>
        <p className="cp-muted cp-small">An anonymous visitor: the shop did not sign them in, so there is no customer record to show.</p>
      </div>
    );
  }
  return (
    <div className="cp">
      <PanelSection title="Customer" part={data.customer} now={now}>
        {(d) => <GoldenRecord data={d} />}
      </PanelSection>
      <PanelSection title="Identities" part={data.identities} now={now}>
        {(d) => <Identities data={d} />}
      </PanelSection>
      <PanelSection title="Orders" part={data.orders} now={now}>
        {(d) => <Orders orders={d} />}
      </PanelSection>
      <PanelSection title="CRM profile" part={data.crm} now={now}>
        {(d) => <Crm profiles={d} />}
      </PanelSection>
      <PanelSection title="Open tickets" part={data.tickets} now={now}>
        {(d) => <Tickets tickets={d} />}
      </PanelSection>
    </div>
  );
}
