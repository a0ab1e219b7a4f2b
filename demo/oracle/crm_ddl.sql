-- crm_oracle: the retailer's production CRM (Oracle Database 12c or later).
-- No Oracle server runs in the local stack. To try the Oracle connector against a real
-- database, run this as a DBA, then the seed file `junction demo seed` writes to
-- <dataDir>/estate/crm_oracle_seed.sql (for example with SQL*Plus or SQLcl:
--   sqlplus system@//host:1521/FREEPDB1 @demo/oracle/crm_ddl.sql
--   sqlplus system@//host:1521/FREEPDB1 @.junction/estate/crm_oracle_seed.sql)
-- and set ORACLE_URL for the hub. Use an AL32UTF8 client character set (NLS_LANG) so the
-- Chinese names arrive intact.

CREATE USER CRM IDENTIFIED BY "crm_demo_Passw0rd" QUOTA UNLIMITED ON USERS;
GRANT CREATE SESSION TO CRM;

CREATE TABLE CRM.CUSTOMERS (
  CRM_ID           VARCHAR2(16)        NOT NULL,  -- customer number, e.g. C1000123
  NAME             NVARCHAR2(100)      NOT NULL,
  EMAIL            VARCHAR2(254),                 -- as entered: case and spaces vary
  MOBILE           VARCHAR2(32),                  -- as entered: +86 138 0013 8000, 13800138000…
  VIP_LEVEL        NUMBER(1)           DEFAULT 0 NOT NULL,
  ACCOUNT_MANAGER  NVARCHAR2(64),
  -- Written with +08:00 by the CRM UI and with UTC by the nightly import.
  UPDATED_AT       TIMESTAMP(3) WITH TIME ZONE NOT NULL,
  CONSTRAINT CUSTOMERS_PK PRIMARY KEY (CRM_ID)
);

-- Incremental reads page by the compound cursor (UPDATED_AT, CRM_ID).
CREATE INDEX CRM.CUSTOMERS_UPDATED_IDX ON CRM.CUSTOMERS (UPDATED_AT, CRM_ID);

-- The hub's read-only user (adjust the name; the connector only needs SELECT).
-- GRANT SELECT ON CRM.CUSTOMERS TO JUNCTION_READER;
