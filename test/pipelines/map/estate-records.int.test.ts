/**
 * The demo records the mapping tests and the benchmark use without services
 * (pipelines/map/estate-records.ts) are exactly what the live connectors read from the
 * seeded estate: same keys, same values, same JSON types.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../config/env.js';
import { loadConfig, type ResolvedConfig } from '../../../config/load.js';
import { createLogger } from '../../../config/log.js';
import { createConnector } from '../../../connectors/index.js';
import type { SourceRecord } from '../../../connectors/types.js';
import { estateRecords, type DemoStream } from '../../../pipelines/map/estate-records.js';
import { FIXTURE, seedFixture, type SeededEstate } from '../../demo/estate-fixture.js';

let estate: SeededEstate;
let config: ResolvedConfig;
const generated = estateRecords(FIXTURE);

beforeAll(async () => {
  estate = await seedFixture();
  config = await loadConfig(path.join(PROJECT_ROOT, 'config', 'junction.yaml'));
});

afterAll(async () => {
  await estate?.db.end();
});

const KEYS: Partial<Record<DemoStream, string>> = {
  'shop_pg.accounts': 'id',
  'shop_pg.addresses': 'id',
  'orders_soap.orders': 'orderNo',
  'tickets_php.tickets': 'id',
  'app_mongo.users': '_id',
};

async function readAll(stream: DemoStream): Promise<SourceRecord[]> {
  const [source = '', name = ''] = stream.split('.');
  const log = createLogger({ level: 'silent' });
  const connector = createConnector(source, config.sources[source] as { type: string }, { log });
  const out: SourceRecord[] = [];
  try {
    for await (const batch of connector.read(name, null)) out.push(...batch.records);
  } finally {
    await connector.close();
  }
  return out;
}

describe('estate records as the connectors read them', () => {
  it.each(Object.keys(KEYS) as DemoStream[])('%s', async (stream) => {
    const key = KEYS[stream] as string;
    const byKey = (records: SourceRecord[]) => [...records].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
    const live = await readAll(stream);
    expect(live.length).toBe(generated[stream].length);
    expect(byKey(live)).toEqual(byKey(generated[stream]));
  });
});
