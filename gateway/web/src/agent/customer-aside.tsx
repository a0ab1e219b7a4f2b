import type { ContextFrame } from '../shared/chat-client.js';
import { CustomerPanel } from './panel/customer-panel.js';

/** The third column: this wrapper is the landmark, the panel renders its content. */
export function CustomerAside({ selected, context }: { selected: boolean; context: ContextFrame | null }) {
  return (
    <aside className="pane pane-customer" aria-label="Customer">
      {selected ? <CustomerPanel context={context} /> : <p className="chat-empty">Select a conversation to see its customer.</p>}
    </aside>
  );
}
