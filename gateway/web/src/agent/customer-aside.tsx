import type { ContextFrame } from '../shared/chat-client.js';
import { CustomerPanel } from './panel/customer-panel.js';

interface Props {
  selected: boolean;
  /**
   * The selected conversation is still this agent's; one that left them (transferred,
   * reassigned) shows nothing of its customer.
   * @defaultValue true
   */
  yours?: boolean;
  /** The conversation is linked to a customer (its summary has a customerId). */
  linked: boolean;
  context: ContextFrame | null;
}

/**
 * The third column: this wrapper is the landmark, the panel renders its content. A linked
 * conversation whose first `context` frame is still on its way says so, rather than
 * looking like an anonymous visitor's.
 */
export function CustomerAside({ selected, yours = true, linked, context }: Props) {
  let body;
  if (!selected) body = <p className="chat-empty">Select a conversation to see its customer.</p>;
  else if (!yours) body = <p className="chat-empty">This conversation is no longer yours.</p>;
  else if (linked && context === null) body = <p className="chat-empty" aria-busy="true">Loading the customer…</p>;
  else body = <CustomerPanel context={context} />;
  return (
    <aside className="pane pane-customer" aria-label="Customer">
      {body}
    </aside>
  );
}
