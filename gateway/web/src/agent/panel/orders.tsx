import { formatDateTime, formatMoney, statusText } from './format.js';
import { StatusBadge } from './status-badge.js';
import type { Order, OrderLine } from './types.js';

const time = (o: Order) => (o.ordered_at ? Date.parse(o.ordered_at) : NaN);

/** Most recent first; orders without a date last (the server's order too, kept when equal). */
export function byRecency(orders: readonly Order[]): Order[] {
  return [...orders].sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (Number.isNaN(ta) || Number.isNaN(tb)) return Number.isNaN(ta) ? (Number.isNaN(tb) ? 0 : 1) : -1;
    return tb - ta;
  });
}

/** The live status when a lookup answered, else the status of the last sync. */
function OrderStatus({ order }: { order: Order }) {
  const { live } = order;
  const synced = order.status ? `last sync: ${statusText(order.status)}` : 'not in the last sync';
  if (live?.status) {
    const from = `Live from ${live.source}${live.lookup ? ` (${live.lookup})` : ''}${live.asOf ? ` at ${formatDateTime(live.asOf)}` : ''}; ${synced}`;
    return <StatusBadge status={live.status} suffix="live" title={from} />;
  }
  if (!order.status) return null;
  const title = live?.error ? `Live lookup answered ${live.error}; status of the last sync` : 'Status of the last sync';
  return <StatusBadge status={order.status} title={title} />;
}

function Line({ line, currency }: { line: OrderLine; currency: string | null }) {
  const name = line.name ?? line.sku ?? 'item';
  return (
    <li>
      <span className="cp-line-name">{name}</span>
      {line.sku && line.name && <span className="cp-muted"> {line.sku}</span>}
      {line.qty !== null && <span> × {line.qty}</span>}
      {line.unit_price !== null && <span className="cp-muted"> · {formatMoney(line.unit_price, currency)}</span>}
    </li>
  );
}

/** Recent orders: number, date, total, status badge (live when looked up), and their lines. */
export function Orders({ orders }: { orders: readonly Order[] }) {
  if (orders.length === 0) return <p className="cp-muted">No orders.</p>;
  return (
    <ol className="cp-list cp-orders">
      {byRecency(orders).map((o) => (
        <li className="cp-item" key={`${o.source}/${o.sourceKey}`}>
          <div className="cp-item-head">
            <span className="cp-strong">{o.order_no ?? o.sourceKey}</span>
            <OrderStatus order={o} />
          </div>
          <div className="cp-item-meta">
            {o.ordered_at && <time dateTime={o.ordered_at}>{formatDateTime(o.ordered_at)}</time>}
            {o.ordered_at && o.total_amount !== null && ' · '}
            {o.total_amount !== null && <span className="cp-money">{formatMoney(o.total_amount, o.currency)}</span>}
          </div>
          {o.lines.length > 0 && (
            <ul className="cp-lines" aria-label={`Lines of order ${o.order_no ?? o.sourceKey}`}>
              {o.lines.map((l, i) => (
                <Line key={i} line={l} currency={o.currency} />
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}
