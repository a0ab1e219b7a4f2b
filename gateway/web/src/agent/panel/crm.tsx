import { formatDateTime, label } from './format.js';
import type { CrmProfile } from './types.js';

const FIELDS = ['vip_level', 'account_manager', 'crm_id', 'name', 'email', 'phone'] as const;

/** The CRM profiles of the customer (usually one), or "No CRM profile". */
export function Crm({ profiles }: { profiles: readonly CrmProfile[] }) {
  if (profiles.length === 0) return <p className="cp-muted">No CRM profile</p>;
  return (
    <>
      {profiles.map((p) => (
        <dl className="cp-fields" key={`${p.source}/${p.sourceKey}`}>
          {FIELDS.filter((f) => p[f] !== null && p[f] !== '').map((f) => (
            <div className="cp-field" key={f}>
              <dt>{label(f)}</dt>
              <dd>{p[f]}</dd>
            </div>
          ))}
          {p.updated_at && (
            <div className="cp-field">
              <dt>Updated</dt>
              <dd>
                <time dateTime={p.updated_at}>{formatDateTime(p.updated_at)}</time>
              </dd>
            </div>
          )}
          <div className="cp-field">
            <dt>Source</dt>
            <dd className="cp-muted">
              {p.source} {p.sourceKey}
            </dd>
          </div>
        </dl>
      ))}
    </>
  );
}
