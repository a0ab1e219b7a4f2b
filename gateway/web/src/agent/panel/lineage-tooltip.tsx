import type { ReactNode } from 'react';
import { formatExact, ruleText } from './format.js';
import { Tooltip } from './tooltip.js';
import type { FieldLineage } from './types.js';

function Row({ name, children }: { name: string; children: ReactNode }) {
  return (
    <>
      <span className="cp-tip-row">
        <span className="cp-tip-label">{`${name}:`}</span> {children}
      </span>
      {/* Rows are blocks on screen; the space keeps them apart in the accessible description. */}{' '}
    </>
  );
}

/** A golden value whose tooltip says where it came from: source, source key, mapping file:line, as of. */
export function LineageValue({ lineage, children }: { lineage: FieldLineage | null; children: ReactNode }) {
  if (!lineage) {
    return <Tooltip tip={<Row name="Source">not recorded</Row>}>{children}</Tooltip>;
  }
  const rule = ruleText(lineage.rule);
  const tip = (
    <>
      <Row name="Source">{lineage.stream ? `${lineage.source}.${lineage.stream}` : lineage.source}</Row>
      <Row name="Key">{lineage.source_key}</Row>
      <Row name="Mapping">{lineage.mapping ?? 'not recorded'}</Row>
      <Row name="As of">{lineage.synced_at ? formatExact(lineage.synced_at) : 'unknown'}</Row>
      {rule && <Row name="Chosen as">{rule}</Row>}
    </>
  );
  return <Tooltip tip={tip}>{children}</Tooltip>;
}
