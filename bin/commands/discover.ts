/** `junction discover <source>`: the source's streams and their fields with inferred types. */
import type { Command } from 'commander';
import { printJson } from '../json-output.js';
import { loadCliConfig, openSource } from '../sources.js';

export function registerDiscover(program: Command): void {
  program
    .command('discover')
    .argument('<source>', 'a source name from the config, e.g. shop_pg')
    .description('list the streams of a source and their fields with inferred types')
    .option('-c, --config <file>', 'config file (default: config/junction.yaml)')
    .option('--json', 'print one JSON object {source, streams}')
    .action(async (source: string, opts: { config?: string; json?: boolean }) => {
      const config = await loadCliConfig(opts.config);
      const connector = openSource(config, source);
      try {
        const streams = await connector.discover();
        if (opts.json) {
          printJson({ source, streams });
          return;
        }
        for (const s of streams) {
          const cursor = s.cursor ? ` cursor (${s.cursor.join(', ')})` : ' (no cursor: full reads only)';
          console.log(`${source}.${s.name}  key ${s.key}${cursor}`);
          const width = Math.max(4, ...s.fields.map((f) => f.name.length));
          for (const f of s.fields) console.log(`  ${f.name.padEnd(width)}  ${f.type}${f.nullable ? ' (nullable)' : ''}`);
        }
      } finally {
        await connector.close();
      }
    });
}
