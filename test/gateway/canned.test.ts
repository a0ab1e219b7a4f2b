/** Canned replies: variables from the conversation's customer panel; unknown ones render empty and are reported. */
import { describe, expect, it } from 'vitest';
import { CANNED_VARIABLES, renderReplies, renderReply, type RenderScope } from '../../gateway/canned.js';

const at = '2026-01-01T00:00:00.000Z';
const scope: RenderScope = {
  customerId: 42,
  agent: { name: 'Mei', team: 'support' },
  conversation: { id: 7, team: 'support' },
  parts: {
    customer: { asOf: at, stale: false, data: { id: 42, fields: { name: '李娜', email: 'li@example.com', phone: null }, lineage: {} } },
    orders: {
      asOf: at,
      stale: false,
      data: [
        { order_no: 'SO-2', status: 'shipped', total_amount: '99.50', currency: 'CNY', live: { status: 'SHIPPED' } },
        { order_no: 'SO-1', status: 'delivered' },
      ],
    },
    tickets: { asOf: null, stale: false, data: [] },
    crm: { asOf: at, stale: false, data: [{ crm_id: 'C-9', vip_level: 'gold' }] },
  },
};

describe('canned replies', () => {
  it('fills variables from the customer, orders, CRM, agent and conversation', () => {
    const r = renderReply(
      { id: 'status', title: 'Status', text: '{{ customer.name }}, order {{orders.latest.order_no}} is {{orders.latest.status}} ({{orders.latest.live_status}}), {{orders.count}} orders, {{crm.vip_level}}. — {{agent.name}} #{{conversation.id}}' },
      scope,
    );
    expect(r).toEqual({ id: 'status', title: 'Status', text: '李娜, order SO-2 is shipped (SHIPPED), 2 orders, gold. — Mei #7', unknown: [], empty: [] });
  });

  it('renders unknown variables empty and reports them; known ones without a value are reported as empty', () => {
    const [r] = renderReplies([{ id: 'x', title: 'X', text: 'Hi {{customer.nmae}} {{customer.phone}}{{tickets.latest.ticket_no}}!' }], scope);
    expect(r).toEqual({ id: 'x', title: 'X', text: 'Hi  !', unknown: ['customer.nmae'], empty: ['customer.phone', 'tickets.latest.ticket_no'] });
  });

  it('renders customer variables empty for a conversation without a linked customer', () => {
    const r = renderReply({ id: 'g', title: 'G', text: 'Hello {{customer.name}}, I am {{agent.name}}' }, { ...scope, parts: null, customerId: null });
    expect(r.text).toBe('Hello , I am Mei');
    expect(r.empty).toEqual(['customer.name']);
  });

  it('knows the golden fields and the documented order variables', () => {
    expect(CANNED_VARIABLES).toEqual(expect.arrayContaining(['customer.name', 'customer.vip_level', 'orders.latest.status', 'tickets.open_count', 'crm.account_manager']));
  });
});
