import { formatDate, formatDateTime, label } from './format.js';
import { LineageValue } from './lineage-tooltip.js';
import type { CustomerData, GoldenField, Json } from './types.js';

/** Model fields that hold instants or days (pipelines/model.ts); attributes say their type. */
const DATETIME = new Set(['created_at', 'updated_at']);
const DATE = new Set(['birthday']);

function valueText(f: GoldenField): string {
  const v: Json = f.value;
  if (typeof v === 'string') {
    if (DATETIME.has(f.name) || f.type === 'datetime') return formatDateTime(v);
    if (DATE.has(f.name) || f.type === 'date') return formatDate(v);
    if (f.type === 'boolean') return v === 'true' ? 'yes' : v === 'false' ? 'no' : v;
    return v;
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** The golden record: each non-empty field, its value focusable with its lineage as a tooltip. */
export function GoldenRecord({ data }: { data: CustomerData }) {
  const sources = new Set(data.records.map((r) => `${r.source}.${r.stream}`));
  return (
    <>
      {data.fields.length === 0 ? (
        <p className="cp-muted">No golden values yet.</p>
      ) : (
        <dl className="cp-fields">
          {data.fields.map((f) => (
            <div className="cp-field" key={f.name}>
              <dt>{label(f.name)}</dt>
              <dd>
                <LineageValue lineage={f.lineage}>{valueText(f)}</LineageValue>
              </dd>
            </div>
          ))}
        </dl>
      )}
      <p className="cp-muted cp-small">
        Customer #{data.id} · {data.records.length} source record{data.records.length === 1 ? '' : 's'}
        {sources.size > 0 ? ` from ${[...sources].sort().join(', ')}` : ''}
      </p>
    </>
  );
}
