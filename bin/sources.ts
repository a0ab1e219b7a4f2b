/**
 * What the source-facing commands (`read`, `discover`, `check`) share: loading the config
 * and opening a source's connector with a logger that masks the config's secrets.
 */
import path from 'node:path';
import { JunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../config/log.js';
import { createConnector } from '../connectors/index.js';
import type { Connector } from '../connectors/types.js';
import { PROJECT_ROOT } from '../config/env.js';

/** The default config file: the project's own. */
export const DEFAULT_CONFIG = path.join(PROJECT_ROOT, 'config', 'junction.yaml');

/** The config at `file` (default: the project's), relative to the current folder. */
export function loadCliConfig(file: string | undefined): Promise<ResolvedConfig> {
  // `--config ""` (an unset variable in a script) must not quietly mean the project's config.
  if (file !== undefined && !file.trim()) return Promise.reject(new JunctionError('CLI_USAGE', '--config names no file (an empty value)'));
  return loadConfig(file === undefined ? DEFAULT_CONFIG : path.resolve(file));
}

/** Opens the connector of `source` (CONN_UNKNOWN_STREAM-style errors name what exists). */
export function openSource(config: ResolvedConfig, source: string): Connector {
  const sourceConfig = config.sources[source];
  if (!sourceConfig) {
    throw new JunctionError('CFG_UNKNOWN_REF', `no source named ${source}; declared: ${Object.keys(config.sources).join(', ')}`, {
      where: { source },
    });
  }
  const log = createLogger({ secrets: config, level: process.env.JUNCTION_LOG_LEVEL ?? 'warn' }).child({ source });
  return createConnector(source, sourceConfig as { type: string; enabled?: boolean }, { log });
}

/** Splits `source.stream`, checking both exist. */
export function parseStreamRef(config: ResolvedConfig, ref: string): { source: string; stream: string } {
  const dot = ref.indexOf('.');
  if (dot <= 0 || dot === ref.length - 1) {
    throw new JunctionError('CFG_UNKNOWN_REF', `expected <source>.<stream>, got "${ref}"`);
  }
  const source = ref.slice(0, dot);
  const stream = ref.slice(dot + 1);
  const sourceConfig = config.sources[source] as { streams?: Record<string, unknown> } | undefined;
  if (!sourceConfig) {
    throw new JunctionError('CFG_UNKNOWN_REF', `no source named ${source}; declared: ${Object.keys(config.sources).join(', ')}`, { where: { source } });
  }
  if (!sourceConfig.streams?.[stream]) {
    throw new JunctionError('CONN_UNKNOWN_STREAM', `source ${source} has no stream ${stream}; declared: ${Object.keys(sourceConfig.streams ?? {}).join(', ')}`, {
      where: { source },
    });
  }
  return { source, stream };
}
