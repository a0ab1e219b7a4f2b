-- The unified customer view. Entity columns follow pipelines/model.ts one to one
-- (test/pipelines/unified/model-schema.int.test.ts keeps them equal); everything else here is
-- identity resolution's bookkeeping. Writers: pipelines/resolve + pipelines/load only.
-- The high-volume tables (identities, source records, orders, tickets, profiles) carry
-- customer_id without a foreign key: the per-row check doubled their insert cost, and their
-- one writer (the resolver, under its locks) creates customers before pointing at them and
-- never deletes one (absorbed customers keep their row with merged_into).
CREATE SCHEMA IF NOT EXISTS unified;

-- The golden record. Field columns are chosen per field by survivorship; `lineage` says, per
-- field, which source record won: {source, stream, source_key, mapping: "file:line", synced_at}.
-- A customer absorbed by a merge keeps its row (ids given out stay resolvable) with
-- `merged_into` set and no records, identities or field values of its own.
CREATE TABLE unified.customer (
  id              bigserial   PRIMARY KEY,
  name            text,
  email           text,
  phone           text,
  nickname        text,
  gender          text,
  birthday        date,
  province        text,
  city            text,
  address         text,
  vip_level       text,
  account_manager text,
  created_at      timestamptz,
  updated_at      timestamptz,
  lineage         jsonb       NOT NULL DEFAULT '{}',
  merged_into     bigint      REFERENCES unified.customer (id),
  -- Resolution's bookkeeping (see pipelines/resolve/partition.ts): its groups of records
  -- joined by uncapped keys that hold one, the uncapped kinds it has ids of, and whether an
  -- unmerge pinned its records.
  anchors         integer     NOT NULL DEFAULT 0,
  anchor_kinds    text[]      NOT NULL DEFAULT '{}',
  pinned          boolean     NOT NULL DEFAULT false,
  hub_created_at  timestamptz NOT NULL DEFAULT now(),
  hub_updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_merged_into_idx ON unified.customer (merged_into) WHERE merged_into IS NOT NULL;

-- Which customer holds a normalized identity value. `state`:
--   link   the value links records: exactly one customer holds it (partial unique index);
--   capped the value is over its kind's cardinality cap (see unified.identity_capped) and links nothing;
--   shared the value would link, but its holders were kept apart by an unmerge (pinned records).
CREATE TABLE unified.customer_identity (
  kind        text   NOT NULL,
  value       text   NOT NULL,
  customer_id bigint NOT NULL,
  state       text   NOT NULL DEFAULT 'link' CHECK (state IN ('link', 'capped', 'shared')),
  PRIMARY KEY (kind, value, customer_id)
);
CREATE UNIQUE INDEX customer_identity_link_uq ON unified.customer_identity (kind, value) WHERE state = 'link';
-- A customer's rows are its records' keys (source_record.identity_keys); only the few rows
-- that are not `link` are looked up by customer.
CREATE INDEX customer_identity_not_link_idx ON unified.customer_identity (customer_id) WHERE state <> 'link';

-- Values that went over their kind's cardinality cap: they stopped linking for good
-- (a switchboard stays a switchboard). `holders` is the count that crossed the cap.
CREATE TABLE unified.identity_capped (
  kind      text        NOT NULL,
  value     text        NOT NULL,
  holders   integer     NOT NULL,
  cap       integer     NOT NULL,
  capped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);

-- Every loaded source record: lineage, idempotency (payload_hash) and the input of identity
-- resolution (identity_keys as 'kind:value'). `fields` holds the mapped values of records
-- that feed golden records (customers, CRM profiles); orders and tickets keep theirs in
-- their own tables. `pinned` records were placed by `junction customers unmerge`: they keep
-- their customer whatever their keys say.
CREATE TABLE unified.source_record (
  source          text        NOT NULL,
  stream          text        NOT NULL,
  source_key      text        NOT NULL,
  target          text        NOT NULL CHECK (target IN ('customer', 'order', 'ticket', 'crm_profile')),
  customer_id     bigint      NOT NULL,
  payload_hash    text        NOT NULL,
  identity_keys   text[]      NOT NULL DEFAULT '{}',
  fields          jsonb       NOT NULL DEFAULT '{}',
  mapping_version text        NOT NULL,
  synced_at       timestamptz NOT NULL,
  pinned          boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (source, stream, source_key)
);
CREATE INDEX source_record_customer_idx ON unified.source_record (customer_id);

-- Where each field of a mapping version is defined (`{field: {file, line}}`), for lineage:
-- the same for every record that version mapped, so kept once rather than per record.
CREATE TABLE unified.mapping_origin (
  mapping_version text  PRIMARY KEY,
  origins         jsonb NOT NULL
);

CREATE TABLE unified."order" (
  source        text        NOT NULL,
  stream        text        NOT NULL,
  source_key    text        NOT NULL,
  customer_id   bigint      NOT NULL,
  synced_at     timestamptz NOT NULL,
  order_no      text,
  status        text,
  total_amount  numeric,
  currency      text,
  contact_phone text,
  lines         jsonb,
  ordered_at    timestamptz,
  updated_at    timestamptz,
  PRIMARY KEY (source, stream, source_key)
);
CREATE INDEX order_customer_idx ON unified."order" (customer_id, ordered_at DESC);

CREATE TABLE unified.ticket (
  source            text        NOT NULL,
  stream            text        NOT NULL,
  source_key        text        NOT NULL,
  customer_id       bigint      NOT NULL,
  synced_at         timestamptz NOT NULL,
  ticket_no         text,
  subject           text,
  body              text,
  status            text,
  priority          text,
  created_at        timestamptz,
  updated_at        timestamptz,
  first_response_at timestamptz,
  resolved_at       timestamptz,
  PRIMARY KEY (source, stream, source_key)
);
CREATE INDEX ticket_customer_idx ON unified.ticket (customer_id, created_at DESC);

CREATE TABLE unified.crm_profile (
  source          text        NOT NULL,
  stream          text        NOT NULL,
  source_key      text        NOT NULL,
  customer_id     bigint      NOT NULL,
  synced_at       timestamptz NOT NULL,
  crm_id          text,
  name            text,
  email           text,
  phone           text,
  vip_level       text,
  account_manager text,
  updated_at      timestamptz,
  PRIMARY KEY (source, stream, source_key)
);
CREATE INDEX crm_profile_customer_idx ON unified.crm_profile (customer_id);

-- What identity resolution did to customers, with its evidence:
--   merge    `absorbed_id` was merged into `customer_id`; evidence.path is the chain of shared
--            keys from a record of the absorbed customer to one of the survivor;
--   split    records of `absorbed_id`'s old self now form `customer_id` (a value went over its cap);
--   unmerge  `junction customers unmerge` moved evidence.records from `absorbed_id` to `customer_id`.
CREATE TABLE unified.merge_log (
  id          bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  action      text        NOT NULL CHECK (action IN ('merge', 'split', 'unmerge')),
  customer_id bigint      NOT NULL REFERENCES unified.customer (id),
  absorbed_id bigint      NOT NULL REFERENCES unified.customer (id),
  evidence    jsonb       NOT NULL
);
CREATE INDEX merge_log_customer_idx ON unified.merge_log (customer_id);
CREATE INDEX merge_log_absorbed_idx ON unified.merge_log (absorbed_id);

-- Custom attributes declared in config (`attributes:`), typed: exactly the column of the
-- declared type holds the value. Chosen by survivorship like golden fields.
CREATE TABLE unified.customer_attribute (
  customer_id    bigint      NOT NULL REFERENCES unified.customer (id),
  name           text        NOT NULL,
  type           text        NOT NULL CHECK (type IN ('string', 'integer', 'decimal', 'boolean', 'datetime', 'date', 'json')),
  value_string   text,
  value_integer  bigint,
  value_decimal  numeric,
  value_boolean  boolean,
  value_datetime timestamptz,
  value_date     date,
  value_json     jsonb,
  lineage        jsonb       NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, name),
  CHECK (num_nonnulls(value_string, value_integer, value_decimal, value_boolean, value_datetime, value_date, value_json) = 1),
  CHECK (CASE type
    WHEN 'string' THEN value_string IS NOT NULL
    WHEN 'integer' THEN value_integer IS NOT NULL
    WHEN 'decimal' THEN value_decimal IS NOT NULL
    WHEN 'boolean' THEN value_boolean IS NOT NULL
    WHEN 'datetime' THEN value_datetime IS NOT NULL
    WHEN 'date' THEN value_date IS NOT NULL
    ELSE value_json IS NOT NULL END)
);
