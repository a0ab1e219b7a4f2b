/**
 * An IANA zone whose offsets are remembered per day. luxon asks `Intl` for the offset of
 * every conversion (~8 µs, several times per parse): reading a page of wall-clock times in
 * Asia/Shanghai spent most of its time there (bench.ts: ~24 µs → ~8 µs a value). luxon
 * still does all the time-zone arithmetic; only its answers are cached.
 */
import { IANAZone, Zone, type ZoneOffsetFormat, type ZoneOffsetOptions } from 'luxon';

const DAY = 86_400_000;
/** Days remembered per zone (~270 years); cleared when full. */
const MAX_DAYS = 100_000;

/**
 * Offsets are cached only for (UTC) days whose first and last millisecond have the same
 * offset, i.e. days without a transition (a DST change, a zone's own history; no zone has
 * two that cancel out within one day); on a day with a transition every call goes to luxon.
 */
export class MemoZone extends Zone {
  private readonly inner: IANAZone;
  private readonly days = new Map<number, number>();

  constructor(name: string) {
    super();
    this.inner = IANAZone.create(name) as IANAZone;
  }

  override get type(): string {
    return this.inner.type;
  }

  override get name(): string {
    return this.inner.name;
  }

  override get isUniversal(): boolean {
    return false;
  }

  override get isValid(): true {
    return this.inner.isValid as true;
  }

  override offsetName(ts: number, options: ZoneOffsetOptions): string {
    return this.inner.offsetName(ts, options) as string;
  }

  override formatOffset(ts: number, format: ZoneOffsetFormat): string {
    return this.inner.formatOffset(ts, format) as string;
  }

  override equals(other: Zone): boolean {
    return other.type === this.type && other.name === this.name;
  }

  override offset(ts: number): number {
    const day = Math.floor(ts / DAY);
    const known = this.days.get(day);
    if (known !== undefined) return known;
    const start = this.inner.offset(day * DAY);
    if (start !== this.inner.offset(day * DAY + DAY - 1)) return this.inner.offset(ts);
    if (this.days.size >= MAX_DAYS) this.days.clear();
    this.days.set(day, start);
    return start;
  }
}

const zones = new Map<string, MemoZone>();

/** The shared memoizing zone for `name` (an IANA name luxon accepts; `UTC` included). */
export function memoZone(name: string): MemoZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new MemoZone(name);
    zones.set(name, zone);
  }
  return zone;
}
