/**
 * Text for the panel: times and money through `Intl` in the browser's locale (undefined
 * locale = the user's), labels for field and key names, and record names as people read them.
 */
const cache = new Map<string, Intl.DateTimeFormat>();

function dateFormat(key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.DateTimeFormat(undefined, options)));
  return f;
}

function parse(iso: string | null): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Date and time, e.g. "5 Jan 2026, 10:00"; the input itself when it is not a time. */
export function formatDateTime(iso: string | null): string {
  const d = parse(iso);
  return d ? dateFormat('datetime', { dateStyle: 'medium', timeStyle: 'short' }).format(d) : (iso ?? '');
}

/** Date and time with seconds, for titles. */
export function formatExact(iso: string | null): string {
  const d = parse(iso);
  return d ? dateFormat('exact', { dateStyle: 'full', timeStyle: 'long' }).format(d) : (iso ?? '');
}

/**
 * A calendar date. A bare `YYYY-MM-DD` (a birthday) is a day, not an instant: it is shown in
 * UTC so no time zone moves it to the day before.
 */
export function formatDate(iso: string | null): string {
  if (iso && /^\d{4}-\d\d-\d\d$/.test(iso)) {
    const d = parse(`${iso}T00:00:00Z`);
    return d ? dateFormat('day-utc', { dateStyle: 'medium', timeZone: 'UTC' }).format(d) : iso;
  }
  const d = parse(iso);
  return d ? dateFormat('day', { dateStyle: 'medium' }).format(d) : (iso ?? '');
}

/** Time only when `iso` is today, else date and time: "stale since 14:03". */
export function formatSince(iso: string | null, now: number): string {
  const d = parse(iso);
  if (!d) return iso ?? 'unknown';
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay ? dateFormat('time', { timeStyle: 'short' }).format(d) : formatDateTime(iso);
}

let relative: Intl.RelativeTimeFormat | undefined;

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

/** "5 min. ago", "yesterday", "now". A time ahead of `now` (clocks differ a little) counts as now. */
export function formatRelative(iso: string | null, now: number): string {
  const d = parse(iso);
  if (!d) return 'unknown';
  relative ??= new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
  let value = Math.max(0, (now - d.getTime()) / 1000);
  if (value < 45) return relative.format(0, 'second');
  for (const [unit, size] of UNITS) {
    if (value < size) return relative.format(-Math.round(value), unit);
    value /= size;
  }
  return relative.format(-Math.round(value), 'year');
}

/** A decimal text amount in its currency; plain digits when the currency code is unknown to Intl. */
export function formatMoney(amount: string | null, currency: string | null): string {
  if (amount === null) return '';
  const n = Number(amount);
  if (!Number.isFinite(n)) return currency ? `${amount} ${currency}` : amount;
  if (currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(n);
    } catch {
      // Not an ISO 4217 code: fall through to the number with the code after it.
    }
  }
  const digits = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
  return currency ? `${digits} ${currency}` : digits;
}

const LABELS: Record<string, string> = {
  name: 'Name',
  email: 'Email',
  phone: 'Phone',
  nickname: 'Nickname',
  gender: 'Gender',
  birthday: 'Birthday',
  province: 'Province',
  city: 'City',
  address: 'Address',
  vip_level: 'VIP level',
  account_manager: 'Account manager',
  created_at: 'Customer since',
  updated_at: 'Last changed',
  crm_id: 'CRM id',
  shop_account: 'Shop account',
  app_user: 'App user',
  order_no: 'Order',
  ticket_no: 'Ticket',
};

/** `vip_level` → "VIP level"; names without a label are de-snake-cased. */
export function label(name: string): string {
  const known = LABELS[name];
  if (known) return known;
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : name;
}

/** A status as words: `PENDING_PAYMENT` → "pending payment". */
export function statusText(status: string): string {
  return status.replace(/[_-]+/g, ' ').toLowerCase();
}

/** `crm_oracle/customers/C1` → "crm_oracle.customers C1" (a key may hold slashes itself). */
export function recordName(ref: string): string {
  const [source, stream, ...key] = ref.split('/');
  return key.length === 0 ? ref : `${source}.${stream} ${key.join('/')}`;
}

/** `email:ann@example.com` → "email ann@example.com"; `crm_id:C1` → "CRM id C1". */
export function keyName(key: string): string {
  const at = key.indexOf(':');
  if (at < 0) return key;
  return `${label(key.slice(0, at)).replace(/^(?!CRM|VIP)./, (c) => c.toLowerCase())} ${key.slice(at + 1)}`;
}

/** The survivorship rule in words. */
export function ruleText(rule: string | null): string | null {
  if (rule === 'most_recent') return 'most recent value';
  if (rule === 'first_non_null') return 'first known value';
  if (rule === 'source_priority') return 'preferred source';
  return rule;
}
