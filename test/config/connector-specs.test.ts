/** Every connector spec is registered once, and its examples validate against its schema. */
import { describe, expect, it } from 'vitest';
import { connectorSpecs } from '../../connectors/index.js';
import { sourceSchema } from '../../config/schema.js';

describe('connector specs', () => {
  it('registers the five kinds once each', () => {
    expect(connectorSpecs.map((s) => s.type)).toEqual(['soap', 'rest', 'postgres', 'mongo', 'oracle']);
  });

  it.each(connectorSpecs.map((s) => [s.type, s] as const))('%s examples validate', (_type, spec) => {
    expect(spec.examples.length).toBeGreaterThan(0);
    for (const example of spec.examples) {
      expect(spec.config.safeParse(example).error?.issues).toBeUndefined();
      expect(sourceSchema.safeParse(example).success).toBe(true);
    }
  });

  it('rejects unknown keys in every kind', () => {
    for (const spec of connectorSpecs) {
      const result = spec.config.safeParse({ ...(spec.examples[0] as object), surprise: 1 });
      expect(result.error?.issues.map((i) => i.code)).toContain('unrecognized_keys');
    }
  });
});
