/**
 * The generator's only source of randomness: one faker instance seeded from the user's
 * `--seed`. Every draw goes through it in a fixed order, so a seed always produces the same
 * estate, byte for byte, whatever the batch size or the machine.
 */
import { createHash } from 'node:crypto';
import { Faker, base, en } from '@faker-js/faker';

/** Seeded random helpers shared by the people model and the per-source record builders. */
export interface Rng {
  /** The seeded faker (Latin names, ids); draws from the same stream as the helpers. */
  readonly faker: Faker;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** One value, each drawn with its relative weight (zero-weight entries never win). */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T;
  /** `length` characters drawn from `alphabet`. */
  chars(alphabet: string, length: number): string;
}

/** Four 32-bit words from the seed's SHA-256, so `"7"` and `7` and long strings all work. */
function seedWords(seed: string | number): number[] {
  const digest = createHash('sha256').update(`junction-demo:${seed}`).digest();
  return [0, 4, 8, 12].map((offset) => digest.readUInt32LE(offset));
}

/** A deterministic random source for one generator run. */
export function createRng(seed: string | number): Rng {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(seedWords(seed));
  const rng: Rng = {
    faker,
    int: (min, max) => faker.number.int({ min, max }),
    chance: (p) => faker.number.float({ min: 0, max: 1 }) < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick() from an empty list');
      return items[faker.number.int({ min: 0, max: items.length - 1 })] as (typeof items)[number];
    },
    weighted: (entries) => {
      const live = entries.filter(([, w]) => w > 0);
      const total = live.reduce((sum, [, w]) => sum + w, 0);
      if (live.length === 0) throw new RangeError('weighted() needs at least one positive weight');
      let roll = faker.number.float({ min: 0, max: total });
      for (const [value, weight] of live) {
        if (roll < weight) return value;
        roll -= weight;
      }
      // float rounding can leave roll == total: the last candidate takes it
      return (live[live.length - 1] as (typeof live)[number])[0];
    },
    chars: (alphabet, length) => {
      let out = '';
      for (let i = 0; i < length; i += 1) out += alphabet[faker.number.int({ min: 0, max: alphabet.length - 1 })];
      return out;
    },
  };
  return rng;
}
