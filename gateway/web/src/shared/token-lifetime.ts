/**
 * Token deadlines on this browser's clock. The gateway says when a token expires on its own
 * clock (`expiresAt`) and how many seconds that is from its answer (`expiresIn`,
 * `tokenExpiresIn`). Comparing `expiresAt` with `Date.now()` goes wrong on a browser whose
 * clock is off by more than the renewal lead: behind, it renews after the server expired the
 * token; ahead, every token looks due and it renews in a loop. Counting `expiresIn` from the
 * answer's arrival needs no agreement between the clocks (a reload keeps working: the stored
 * deadline and `Date.now()` are the same clock).
 */

/** How long before a token expires the chat client asks for a renewed one (or halfway through a shorter life). */
export const RENEW_LEAD_MS = 5 * 60_000;

/**
 * Token stores renew this much earlier than the chat client asks: their deadline and the
 * socket's come from different answers (another latency, another rounding to whole
 * seconds), and a client asking for a renewal must never get back the token it holds.
 */
export const RENEW_SLACK_MS = 30_000;

/**
 * When a token expires on this browser's clock (epoch ms): `expiresIn` seconds after the
 * answer arrived (`receivedAt`); a gateway too old to send `expiresIn` leaves only its own
 * `expiresAt` to go by.
 */
export function localExpiry(expiresAt: string, expiresIn: number | undefined, receivedAt = Date.now()): number {
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? receivedAt + expiresIn * 1000 : Date.parse(expiresAt);
}

/** Whether a stored token expiring at `deadline` (this clock, epoch ms) should be renewed before it is handed out; an unknown deadline is due. */
export function renewalDue(deadline: number, now = Date.now()): boolean {
  return !(deadline - now > RENEW_LEAD_MS + RENEW_SLACK_MS);
}
