import type { ChatStatus } from '../shared/chat-client.js';
import { ConnectionBanner } from './connection-banner.js';
import type { AgentInfo } from './session.js';

interface Props {
  agent: AgentInfo;
  status: ChatStatus;
  attempts: number;
  onLogout(): void;
}

export function ConsoleHeader({ agent, status, attempts, onLogout }: Props) {
  return (
    <header className="console-header">
      <span className="brand">Junction</span>
      <ConnectionBanner status={status} attempts={attempts} />
      <p className="whoami">
        <span className="agent-name">{agent.name}</span> <span className="agent-team">{agent.team}</span>
      </p>
      <button type="button" onClick={onLogout}>
        Log out
      </button>
    </header>
  );
}
