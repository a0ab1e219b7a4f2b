/**
 * The loader on valid input: interpolation, secret redaction, defaults, freezing, and the
 * committed demo config with every committed YAML file.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/env.js';
import { interpolate } from '../../config/interpolate.js';
import { loadConfig } from '../../config/load.js';
import { redact, redactionList } from '../../config/redact.js';
import { urlPasswords } from '../../config/secret.js';
import { BASE, load, yaml } from './yaml-fixtures.js';

describe('interpolate', () => {
  const env = { HOST: 'db.local', EMPTY: '', PORT: '5432' };

  it.each([
    ['${HOST}', 'db.local'],
    ['${EMPTY}', ''],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'db.local'],
    ['${MISSING:-}', ''],
    ['${HOST:+true}', 'true'],
    ['${EMPTY:+true}', ''],
    ['${MISSING:+true}', ''],
    ['postgres://${HOST}:${PORT:-1}/x', 'postgres://db.local:5432/x'],
    ['$${HOST} costs $5', '${HOST} costs $5'],
  ])('%s → %s', (text, value) => {
    const result = interpolate(text, env);
    expect(result.problems).toEqual([]);
    expect(result.value).toBe(value);
  });

  it('reports an unset variable without default', () => {
    expect(interpolate('x${NOPE}y', env).problems).toEqual([{ kind: 'missing', name: 'NOPE' }]);
  });

  it('applies to scalar values in the loader, not to keys', async () => {
    const { config } = await load(
      { 'junction.yaml': BASE.replace('url: postgres://127.0.0.1/db', 'url: postgres://${DB_HOST:-localhost}/${DB_NAME}') },
      { env: { DB_NAME: 'shop' } },
    );
    expect(config?.sources.shop?.type === 'postgres' && config.sources.shop.url).toBe('postgres://localhost/shop');
  });

  it('switches a source on with ${VAR:+true}, and a disabled source may leave its url empty', async () => {
    const files = {
      'junction.yaml': yaml(`
        version: 1
        sources:
          crm:
            type: oracle
            enabled: \${ORACLE_URL:+true}
            url: \${ORACLE_URL:-}
            streams:
              customers: { table: CRM.CUSTOMERS, cursor: [UPDATED_AT, CRM_ID], key: CRM_ID }
      `),
    };
    const off = await load(files, { env: {} });
    expect(off.errors).toEqual([]);
    expect(off.config?.sources.crm).toMatchObject({ enabled: false, url: '' });
    const on = await load(files, { env: { ORACLE_URL: 'oracle://crm:pw@db:1521/CRM' } });
    expect(on.config?.sources.crm).toMatchObject({ enabled: true, url: 'oracle://crm:pw@db:1521/CRM' });
  });
});

describe('secret redaction', () => {
  it('never shows a secret-named env value, even where the schema does not mark a secret', async () => {
    const { errors } = await load(
      { 'junction.yaml': BASE.replace('url: postgres://127.0.0.1/db', 'url: postgres://127.0.0.1/db\n    max_connections: ${SHOP_DB_PASSWORD}') },
      { env: { SHOP_DB_PASSWORD: 'hunter2-hunter2' } },
    );
    expect(errors).toEqual(['junction.yaml:6:22 sources.shop.max_connections: expected a number, received "***" [CFG_INVALID_TYPE]']);
  });

  it('never shows the value of a field the schema marks secret, wherever it appears', async () => {
    const { errors } = await load({
      'junction.yaml': yaml(`
        version: 1
        sources:
          tickets:
            type: rest
            base_url: http://127.0.0.1:18082
            auth: { type: header, name: X-Api-Key, value: sk-live-abcdef }
            encoding: sk-live-abcdef
            streams: {}
          crm:
            type: rest
            base_url: http://127.0.0.1:18083
            auth: { type: bearer, token: 12345678 }
            streams: {}
      `),
    });
    expect(errors).toHaveLength(2);
    const output = errors.join('\n');
    expect(output).not.toContain('sk-live-abcdef');
    expect(output).not.toContain('12345678');
    expect(output).toContain('received "***"');
  });

  it('never shows a password inside a URL', async () => {
    const { errors } = await load({
      'junction.yaml': `${BASE.replace('postgres://127.0.0.1/db', 'postgres://shop:pa55word@127.0.0.1/db')}gateway:\n  allowed_origins: ["http://admin:pa55word@example.com/x"]\n`,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('http://admin:***@example.com/x');
    expect(errors[0]).not.toContain('pa55word');
  });

  it('redacts text with a list or with a loaded config', async () => {
    expect(redact('connect postgres://u:pw@h/db failed')).toBe('connect postgres://u:***@h/db failed');
    // Drivers split user and host at the last `@`: the whole password goes, and only it.
    expect(redact('connect postgres://u:p@ssw0rd-Secret@db.internal:5432/x?sslmode=a@b failed, mail a@b.c'))
      .toBe('connect postgres://u:***@db.internal:5432/x?sslmode=a@b failed, mail a@b.c');
    expect(redact('redis://:pw@h1 and redis://:pw2@h2/0')).toBe('redis://:***@h1 and redis://:***@h2/0');
    // A user with `@` (Azure's user@server): the user runs to the first `:`.
    expect(redact('PostgreSQL at postgres://junction@corp:Sup3rS3cret@127.0.0.1:15999/junction does not answer'))
      .toBe('PostgreSQL at postgres://junction@corp:***@127.0.0.1:15999/junction does not answer');
    expect(urlPasswords('postgres://junction@corp:Sup3r%40S3cret@db/x')).toEqual(['Sup3r%40S3cret', 'Sup3r@S3cret']);
    // A user without a password, a port, an `@` in the query: nothing to redact.
    expect(redact('https://user@host:8080/p?x=a@b')).toBe('https://user@host:8080/p?x=a@b');
    expect(urlPasswords('postgres://u:p@ssw0rd-Secret@db/x and redis://:a%40b@h')).toEqual(['p@ssw0rd-Secret', 'p@ssw0rd-Secret', 'a%40b', 'a@b']);
    // Drivers read credentials from the query too (pg: ?password=, ioredis merges it into its options).
    expect(redact('redis://127.0.0.1:16379/0?password=s3cret&db=1 and postgres://u@h/db?sslmode=require&password=p%40ss#x'))
      .toBe('redis://127.0.0.1:16379/0?password=***&db=1 and postgres://u@h/db?sslmode=require&password=***#x');
    expect(urlPasswords('postgres://u@h/db?password=p%40ss')).toEqual(['p%40ss', 'p@ss']);
    expect(redact('token hunter22 and hunter22x', ['hunter22', 'hunter22x'])).toBe('token *** and ***');
    expect(redact('port 1 on', ['1', 'on'])).toBe('port 1 on');
    const config = await loadConfig(path.join(PROJECT_ROOT, 'config/junction.yaml'), { env: {} });
    expect(redactionList(config)).toEqual(expect.arrayContaining(['demo-secret-please-change', 'demo-app']));
    expect(redact('sign with demo-secret-please-change', config)).toBe('sign with ***');
  });
});

describe('resolved config', () => {
  const files = {
    'junction.yaml': `${BASE}    lookups:\n      account: { query: "select 1" }\nschedules:\n  - { name: hourly, sync: shop.accounts, cron: "0 * * * *" }\n`,
  };

  it('applies defaults once', async () => {
    const { config, errors } = await load(files);
    expect(errors).toEqual([]);
    expect(config?.sources.shop).toMatchObject({
      enabled: true,
      max_connections: 4,
      streams: { accounts: { statement_timeout_ms: 60_000 } },
      lookups: { account: { timeout_ms: 800, params: [] } },
    });
    expect(config?.schedules[0]).toMatchObject({ mode: 'incremental', timezone: 'UTC', enabled: true });
    expect(config?.mappings).toEqual([]);
    expect(config?.identity).toEqual({ default_region: 'CN', kinds: {}, survivorship: { default: 'most_recent', fields: {} } });
    expect(config?.attributes).toEqual({});
    expect(config?.gateway).toMatchObject({ port: 18080, allowed_origins: [], default_team: 'support', routing: [], max_payload_bytes: 16_384, heartbeat_ms: 30_000 });
  });

  it('is deeply frozen', async () => {
    const { config } = await load(files);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config?.sources.shop?.streams)).toBe(true);
    expect(() => {
      (config as { version: number }).version = 2;
    }).toThrow(TypeError);
    // A second load is unaffected by the first one's frozen defaults.
    expect((await load(files)).errors).toEqual([]);
  });
});

describe('committed YAML', () => {
  const demo = path.join(PROJECT_ROOT, 'config/junction.yaml');

  it('loads every committed config with zero errors, and every mapping file is referenced', async () => {
    const configs = readdirSync(path.join(PROJECT_ROOT, 'config')).filter((f) => /\.ya?ml$/.test(f));
    const referenced = new Set<string>();
    for (const file of configs) {
      const config = await loadConfig(path.join(PROJECT_ROOT, 'config', file), { env: {} });
      for (const m of config.mappings) referenced.add(m.file);
    }
    const mappingDir = path.join(PROJECT_ROOT, 'mappings');
    const mappingFiles = readdirSync(mappingDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(mappingDir, f));
    expect(mappingFiles.length).toBeGreaterThan(0);
    expect([...referenced].sort()).toEqual(mappingFiles.sort());
  });

  it('declares the five demo sources; Oracle is off without ORACLE_URL', async () => {
    const config = await loadConfig(demo, { env: {} });
    expect(Object.keys(config.sources)).toEqual(['orders_soap', 'tickets_php', 'shop_pg', 'app_mongo', 'crm_oracle']);
    expect(config.sources.crm_oracle?.enabled).toBe(false);
    expect(config.schedules.map((s) => s.sync)).toEqual(['tickets_php.tickets', 'orders_soap.orders']);
    expect(config.identity.kinds.phone).toMatchObject({ cardinality_cap: 1, cardinality_by: ['email', 'crm_id'], blocked: ['13800000000'] });
    expect(config.identity.kinds.email?.blocked).toEqual(['test@test.com']);
  });

  it('takes connection URLs from the environment', async () => {
    const env = {
      SHOP_PG_URL: 'postgres://u:pg-s3cret@db:5432/shop',
      ORACLE_URL: 'oracle://u:ora-s3cret@crm:1521/CRM',
      ORDERS_WSDL_URL: 'https://u:soap-s3cret@erp.example/orders?wsdl',
    };
    const config = await loadConfig(demo, { env });
    expect(config.sources.shop_pg).toMatchObject({ url: env.SHOP_PG_URL });
    expect(config.sources.crm_oracle).toMatchObject({ enabled: true, url: env.ORACLE_URL });
    // URL passwords are secrets whatever the variable is called.
    expect(redactionList(config)).toEqual(expect.arrayContaining(['pg-s3cret', 'ora-s3cret', 'soap-s3cret']));
  });
});
