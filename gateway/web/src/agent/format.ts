/** Small display formats of the console. */

/** `< 1 min`, `12 min`, `2 h 5 min`, `3 d`. */
export function formatWaiting(ms: number): string {
  const min = Math.floor(Math.max(0, ms) / 60_000);
  if (min < 1) return '< 1 min';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

/** Time of day for today's messages, date and time otherwise (the browser's locale). */
export function formatTime(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const today = new Date(now).toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
