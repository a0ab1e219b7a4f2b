import type { SourceStatus } from './api-types';
import { ConsoleHeader } from './console-header';
import { DeadLettersSection } from './dead-letters-section';
import { useOps } from './ops-context';
import { RunsSection } from './runs-section';
import { SchedulesSection } from './schedules-section';
import { SourcesSection } from './sources-section';
import { UnreachableBanner } from './unreachable-banner';
import { useResource } from './use-resource';

/** Sources are read here once: their section shows them, the filters of the others list them. */
const SOURCES_POLL_MS = 5000;

/** The signed-in console: one page, a section per concern, each with its own h2. */
export function ConsoleView({ onSignOut }: { onSignOut(): void }) {
  const { unreachable } = useOps();
  const sources = useResource<{ sources: SourceStatus[] }>('/sources', SOURCES_POLL_MS);
  const list = sources.data?.sources;
  return (
    <>
      <ConsoleHeader onSignOut={onSignOut} />
      {unreachable && <UnreachableBanner />}
      <main className="sections">
        <SourcesSection sources={list} error={sources.error} />
        <SchedulesSection />
        <RunsSection sources={list} />
        <DeadLettersSection sources={list} />
      </main>
    </>
  );
}
