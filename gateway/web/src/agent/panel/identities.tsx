import { chainSentences, mergeSentence, recordCount, sharedSentence, unexplainedSentence } from './evidence.js';
import { label } from './format.js';
import type { IdentitiesData } from './types.js';

const STATE_BADGE: Record<string, { text: string; title: string }> = {
  capped: { text: 'not linking', title: 'Held by too many people (over the cap): links no records' },
  shared: { text: 'not linking', title: 'Held by records kept apart by an unmerge: links no records' },
};

/** The customer's identity keys, absorbed customers, and (folded) why its records are one customer. */
export function Identities({ data }: { data: IdentitiesData }) {
  const n = recordCount(data);
  const merges = data.merges.filter((m) => m.action === 'merge').length;
  return (
    <>
      {data.identities.length === 0 ? (
        <p className="cp-muted">No identities.</p>
      ) : (
        <ul className="cp-identities">
          {data.identities.map((i) => {
            const badge = STATE_BADGE[i.state];
            return (
              <li key={`${i.kind}:${i.value}`}>
                <span className="cp-kind">{label(i.kind)}</span> <span className="cp-value">{i.value}</span>
                {badge && (
                  <>
                    {' '}
                    <span className="cp-badge cp-tone-muted" title={badge.title}>
                      {badge.text}
                    </span>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {data.absorbed.length > 0 && (
        <p className="cp-small">
          Absorbed customer{data.absorbed.length === 1 ? '' : 's'}: {data.absorbed.map((id) => `#${id}`).join(', ')}
        </p>
      )}
      <details className="cp-evidence">
        <summary>
          Why these are one customer
          {n > 0 ? ` (${n} record${n === 1 ? '' : 's'}${merges ? `, ${merges} merge${merges === 1 ? '' : 's'}` : ''})` : ''}
        </summary>
        {data.chain === null ? (
          <p className="cp-muted">The resolution rules are not loaded here: only the merge log is shown.</p>
        ) : (
          <ul className="cp-sentences">
            {chainSentences(data.chain).map((sentence) => (
              <li key={sentence}>{sentence}</li>
            ))}
            {(data.unexplained ?? []).map((u) => (
              <li key={u.record}>{unexplainedSentence(u)}</li>
            ))}
          </ul>
        )}
        {data.shared && data.shared.length > 0 && (
          <>
            <h3>Shared keys</h3>
            <ul className="cp-sentences">
              {data.shared.map((s) => (
                <li key={s.key}>{sharedSentence(s)}</li>
              ))}
            </ul>
          </>
        )}
        {data.merges.length > 0 && (
          <>
            <h3>History</h3>
            <ul className="cp-sentences">
              {data.merges.map((m, i) => (
                <li key={`${m.at}-${i}`}>{mergeSentence(m)}</li>
              ))}
            </ul>
          </>
        )}
      </details>
    </>
  );
}
