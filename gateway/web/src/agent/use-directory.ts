import { useCallback, useEffect, useState } from 'react';
import type { ConsoleContext } from './console-context.js';

export interface DirectoryAgent {
  id: number;
  name: string;
  team: string;
  online: boolean;
}

export interface Directory {
  agents: readonly DirectoryAgent[];
  teams: readonly string[];
}

/**
 * `GET /api/agents`: names for other agents' messages and the transfer targets. Read once
 * per login and again whenever the transfer dialog opens (presence changes).
 */
export function useDirectory(call: ConsoleContext['call']): { directory: Directory; refresh(): Promise<void> } {
  const [directory, setDirectory] = useState<Directory>({ agents: [], teams: [] });

  const refresh = useCallback(async () => {
    try {
      setDirectory(await call<Directory>('/api/agents'));
    } catch {
      // Names fall back to "Agent <id>"; the transfer dialog says the list is unavailable.
    }
  }, [call]);

  useEffect(() => {
    let live = true;
    call<Directory>('/api/agents')
      .then((d) => live && setDirectory(d))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [call]);

  return { directory, refresh };
}
