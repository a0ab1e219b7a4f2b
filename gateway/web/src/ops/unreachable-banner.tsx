/** Shown while calls cannot reach the ops server; polling goes on, so it clears by itself. */
export function UnreachableBanner() {
  return (
    <p role="alert" className="banner">
      ops server unreachable, retrying
    </p>
  );
}
