-- A customer absorbed by a merge keeps only merged_into (pipelines/load/write-customers.ts
-- writeAbsorbed, from this version on): its golden values, lineage and anchors were a stale
-- second copy of the person. Clears the ones absorbed before.
UPDATE unified.customer
   SET (name, email, phone, nickname, gender, birthday, province, city, address, vip_level,
        account_manager, created_at, updated_at, lineage, anchors, anchor_kinds, hub_updated_at) =
       (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, '{}', 0, '{}', now())
 WHERE merged_into IS NOT NULL
   AND (lineage <> '{}' OR anchors <> 0 OR name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL);
