-- Golden-record lineage is stored packed (pipelines/load/lineage.ts): each source record
-- once, each field an index into them with its mapping line and survivorship rule, instead
-- of every field repeating its record (which made customer rows exceed the 2 KB TOAST
-- threshold and dominated the cost of loading them). `unified.lineage_expanded(lineage)`
-- spells it out again, per field {source, stream, source_key, mapping, synced_at, rule}:
-- what `junction customers show` and the agent's panel read, and what a data engineer
-- querying the view should call. Lineage written before this packing is returned as is.
CREATE FUNCTION unified.lineage_expanded(l jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN l->>'v' = '2' THEN coalesce((
    SELECT jsonb_object_agg(f.key, jsonb_build_object(
             'source', r->>0, 'stream', r->>1, 'source_key', r->>2,
             'mapping', CASE jsonb_typeof(f.value->1)
                          WHEN 'number' THEN CASE WHEN r->>4 IS NULL THEN NULL ELSE (r->>4) || ':' || (f.value->>1) END
                          ELSE f.value->>1 END,
             'synced_at', r->>3, 'rule', f.value->>2))
      FROM jsonb_each(l->'f') AS f, LATERAL (SELECT l->'r'->((f.value->>0)::int) AS r) AS rec), '{}'::jsonb)
  ELSE l END
$fn$;

COMMENT ON COLUMN unified.customer.lineage IS
  'packed per-field lineage (pipelines/load/lineage.ts); read it through unified.lineage_expanded(lineage)';
