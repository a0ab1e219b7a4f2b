/**
 * The hidden truth behind the estate: people. Each person has canonical keys (one email,
 * one mobile, CRM ids) that the sources later write down messily, and a random subset of
 * systems they appear in. Families share one mobile, as households in China often do, so a
 * phone alone cannot always tell people apart.
 */
import type { Rng } from './rng.js';
import { PLACEHOLDER_PHONE } from './messiness.js';
import { REFERENCE_NOW } from './rows.js';
import { CN_EMAIL_DOMAINS, GIVEN_NAMES, LATIN_EMAIL_DOMAINS, MOBILE_PREFIXES, PLACES, SURNAMES } from './vocabulary.js';

const DAY = 86_400_000;

export interface Place {
  province: string;
  city: string;
  postcode: string | null;
  district: string;
}

export interface Person {
  /** Hidden id, only ever written to the ground truth. */
  id: string;
  latin: boolean;
  /** As the person writes it: `张伟`, `Emily Carter`. */
  fullName: string;
  /** Romanised parts for alternate spellings: `['Zhang', 'Wei']` (family name first for Chinese). */
  romanised: readonly [string, string];
  /** Canonical lower-case email, or null for people who never gave one. */
  email: string | null;
  /** Canonical 11-digit mobile; identical for everyone in a family. */
  mobile: string;
  /** Number of people sharing `mobile` (1 for most). */
  familySize: number;
  /** CRM customer numbers; a few customers were entered twice and have two. */
  crmIds: string[];
  place: Place;
  /** When the person first dealt with the retailer (epoch ms). */
  since: number;
  /** How many records they have in each non-CRM system. */
  shopAccounts: number;
  orders: number;
  tickets: number;
  appUsers: number;
}

interface Family {
  remaining: number;
  size: number;
  mobile: string;
  surname: readonly [string, string, number];
  place: Place;
}

/** A mobile no other person gets: the 8-digit suffix is a bijection of the index. */
function uniqueMobile(rng: Rng, index: number): string {
  const suffix = String(((index + 1) * 7919 + 13_572_468) % 100_000_000).padStart(8, '0');
  const mobile = rng.pick(MOBILE_PREFIXES) + suffix;
  // The placeholder must only ever appear where we put it on purpose.
  return mobile === PLACEHOLDER_PHONE ? `139${suffix}` : mobile;
}

function randomPlace(rng: Rng): Place {
  const [province, city, postcode, districts] = rng.pick(PLACES);
  return { province, city, postcode, district: rng.pick(districts) };
}

/** Email local parts carry a number unique to the person, so two people never share one by accident. */
function makeEmail(rng: Rng, index: number, latin: boolean, parts: readonly [string, string]): string {
  const n = index * 10 + rng.int(0, 9);
  const [family, given] = parts.map((p) => p.toLowerCase().replace(/[^a-z]/g, ''));
  if (latin) return `${given}.${family}${n}@${rng.pick(LATIN_EMAIL_DOMAINS)}`;
  return rng.weighted([
    [`${10_000_000 + n}@qq.com`, 4],
    [`${family}${given}${n}@${rng.pick(CN_EMAIL_DOMAINS)}`, 4],
    [`${given}.${family}${n}@${rng.pick(CN_EMAIL_DOMAINS)}`, 2],
  ]);
}

/** Generates people one at a time, in index order (families are consecutive people). */
export function* generatePeople(rng: Rng, count: number): Generator<Person> {
  let crmCounter = 1_000_001;
  let family: Family | null = null;
  for (let index = 0; index < count; index += 1) {
    if (family === null && rng.chance(0.012)) {
      family = {
        remaining: rng.int(2, 4),
        size: 0,
        mobile: uniqueMobile(rng, index),
        surname: rng.weighted(SURNAMES.map((s) => [s, s[2]] as const)),
        place: randomPlace(rng),
      };
      family.size = family.remaining;
    }
    const inFamily: Family | null = family;
    const latin = inFamily === null && rng.chance(0.15);
    let fullName: string;
    let romanised: readonly [string, string];
    if (latin) {
      const first = rng.faker.person.firstName();
      const last = rng.faker.person.lastName();
      fullName = `${first} ${last}`;
      romanised = [last, first];
    } else {
      const surname = inFamily?.surname ?? rng.weighted(SURNAMES.map((s) => [s, s[2]] as const));
      const [given, givenPinyin] = rng.pick(GIVEN_NAMES);
      fullName = surname[0] + given;
      const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
      romanised = [cap(surname[1]), cap(givenPinyin)];
    }
    // Family members nearly always have an email: with a shared phone it is their only own key.
    const hasEmail = rng.chance(inFamily ? 0.95 : 0.85);
    const email = hasEmail ? makeEmail(rng, index, latin, romanised) : null;
    const crmIds: string[] = [];
    if (rng.chance(0.55)) {
      crmIds.push(`C${crmCounter++}`);
      if (rng.chance(0.02)) crmIds.push(`C${crmCounter++}`);
    }
    const person: Person = {
      id: `P${String(index + 1).padStart(7, '0')}`,
      latin,
      fullName,
      romanised,
      email,
      mobile: inFamily?.mobile ?? uniqueMobile(rng, index),
      familySize: inFamily?.size ?? 1,
      crmIds,
      place: inFamily?.place ?? randomPlace(rng),
      since: REFERENCE_NOW - rng.int(30, 4 * 365) * DAY - rng.int(0, DAY - 1),
      shopAccounts: rng.chance(0.6) ? (rng.chance(0.02) ? 2 : 1) : 0,
      orders: rng.chance(0.65) ? rng.weighted([[1, 35], [2, 25], [3, 15], [4, 10], [5, 8], [6, 7]]) : 0,
      tickets: rng.chance(0.3) ? rng.weighted([[1, 70], [2, 22], [3, 8]]) : 0,
      appUsers: rng.chance(0.5) ? (rng.chance(0.04) ? 2 : 1) : 0,
    };
    // Nobody is invisible: a person exists in the estate through at least one record.
    if (crmIds.length + person.shopAccounts + person.orders + person.tickets + person.appUsers === 0) {
      person.orders = 1;
    }
    if (inFamily) {
      inFamily.remaining -= 1;
      if (inFamily.remaining === 0) family = null;
    }
    yield person;
  }
}
