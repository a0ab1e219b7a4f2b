/** Which column a narrow screen shows. */
export type View = 'list' | 'chat' | 'customer';

interface Props {
  view: View;
  hasSelection: boolean;
  onBack(): void;
  onToggleCustomer(): void;
}

/** Below 1024 px the panel is a toggle; below 760 px one column shows at a time. */
export function MobileBar({ view, hasSelection, onBack, onToggleCustomer }: Props) {
  return (
    <div className="mobile-bar">
      {view !== 'list' && (
        <button type="button" className="back-button" onClick={onBack}>
          <span aria-hidden="true">← </span>Back to conversations
        </button>
      )}
      {hasSelection && (
        <button type="button" className="customer-toggle" aria-pressed={view === 'customer'} onClick={onToggleCustomer}>
          Customer
        </button>
      )}
    </div>
  );
}
