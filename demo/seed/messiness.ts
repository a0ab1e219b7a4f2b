/**
 * How one true value gets written down differently by different systems and people. Each
 * source draws from its own weights, so the same customer's phone is `13800138000` in the
 * shop, `+86 138 0013 8000` in the CRM and `0086-138-0013-8000` on an order — which is what
 * identity resolution must see through (and what the mappings' `normalize:` helpers are for).
 */
import type { Rng } from './rng.js';

/** Values people type when a form insists; identity resolution must block them. */
export const PLACEHOLDER_EMAIL = 'test@test.com';
export const PLACEHOLDER_PHONE = '13800000000';

export type PhoneStyle = 'plain' | 'intl_spaced' | 'intl_dashed_0086' | 'e164' | 'dashed' | 'padded';

/** Writes an 11-digit Chinese mobile number in one of the styles seen in the estate. */
export function formatPhone(mobile: string, style: PhoneStyle): string {
  const [a, b, c] = [mobile.slice(0, 3), mobile.slice(3, 7), mobile.slice(7)];
  switch (style) {
    case 'plain':
      return mobile;
    case 'intl_spaced':
      return `+86 ${a} ${b} ${c}`;
    case 'intl_dashed_0086':
      return `0086-${a}-${b}-${c}`;
    case 'e164':
      return `+86${mobile}`;
    case 'dashed':
      return `${a}-${b}-${c}`;
    case 'padded':
      // copy-pasted from a spreadsheet: inner spaces and a trailing one
      return ` ${a} ${b} ${c} `;
  }
}

/** Per-source habits: which phone styles each system tends to store. */
export const PHONE_STYLES = {
  crm: [['intl_spaced', 5], ['plain', 3], ['e164', 2]],
  shop: [['plain', 7], ['e164', 2], ['padded', 1]],
  orders: [['plain', 4], ['intl_dashed_0086', 3], ['dashed', 2], ['intl_spaced', 1]],
  tickets: [['plain', 6], ['dashed', 2], ['intl_spaced', 2]],
  app: [['e164', 5], ['plain', 4], ['intl_spaced', 1]],
} as const satisfies Record<string, ReadonlyArray<readonly [PhoneStyle, number]>>;

export type SourceHabit = keyof typeof PHONE_STYLES;

/** The person's mobile as this source would store it. */
export function messyPhone(rng: Rng, mobile: string, source: SourceHabit): string {
  return formatPhone(mobile, rng.weighted(PHONE_STYLES[source]));
}

/**
 * The person's email as typed into one system: mostly as is, sometimes capitalised, shouted
 * or with the spaces a copy-paste leaves around it. The canonical form is lower case.
 */
export function messyEmail(rng: Rng, email: string): string {
  const style = rng.weighted([['same', 70], ['capitalised', 14], ['spaces', 10], ['upper', 6]] as const);
  switch (style) {
    case 'same':
      return email;
    case 'capitalised': {
      const [local = '', domain = ''] = email.split('@');
      const cap = (s: string) => s.replace(/(^|[._])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
      return `${cap(local)}@${cap(domain)}`;
    }
    case 'spaces':
      return rng.pick([` ${email}`, `${email} `, `  ${email} `]);
    case 'upper':
      return email.toUpperCase();
  }
}

/**
 * Replaces a real value by the placeholder with probability `p` — but only when the record
 * keeps another usable key (`hasOtherKey`), so the estate stays resolvable at high recall.
 */
export function maybePlaceholder(rng: Rng, value: string, placeholder: string, p: number, hasOtherKey: boolean): string {
  return hasOtherKey && rng.chance(p) ? placeholder : value;
}
