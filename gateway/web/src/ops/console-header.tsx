/** Title, section links, the queue board link and Sign out. */
export function ConsoleHeader({ onSignOut }: { onSignOut(): void }) {
  return (
    <header className="topbar">
      <div className="topbar-row">
        <h1 className="brand">Junction ops</h1>
        <div className="topbar-actions">
          <a href="/ops/queues" target="_blank" rel="noopener noreferrer" aria-describedby="queue-board-note" className="button-link">
            Queue board
            <span aria-hidden="true"> ↗</span>
          </a>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </div>
      <p id="queue-board-note" className="hint">
        The queue board opens in a new tab and asks for the admin token as a password (any user name).
      </p>
      <nav aria-label="Sections" className="section-nav">
        <a href="#sources">Sources</a>
        <a href="#schedules">Schedules</a>
        <a href="#runs">Sync runs</a>
        <a href="#dead-letters">Dead letters</a>
      </nav>
    </header>
  );
}
