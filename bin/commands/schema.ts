/**
 * `junction schema [--write|--check]`: the JSON Schemas of junction.yaml and mapping files,
 * generated from the zod schemas. Without a flag, prints the config schema.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { JunctionError } from '../../config/errors.js';
import { generateSchemas, staleSchemas } from '../../config/json-schema.js';

const rel = (file: string) => path.relative(process.cwd(), file) || file;

/** Adds `junction schema` to the CLI. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('generate the JSON Schemas of config/junction.yaml and mapping files (for editors) and the connector reference')
    .option('--write', 'write config/junction.schema.json, config/mapping.schema.json and connectors/README.md')
    .option('--check', 'exit 1 when the committed schema files are stale (for CI)')
    .action(async (opts: { write?: boolean; check?: boolean }) => {
      const schemas = generateSchemas();
      if (opts.check) {
        const stale = await staleSchemas();
        if (stale.length > 0) {
          const files = stale.map((s) => rel(s.file)).join(', ');
          throw new JunctionError('CFG_SCHEMA_STALE', `${files} out of date: run junction schema --write`);
        }
        console.log(`ok: ${schemas.map((s) => rel(s.file)).join(', ')} up to date`);
      } else if (opts.write) {
        for (const s of schemas) {
          await writeFile(s.file, s.text);
          console.log(`wrote ${rel(s.file)}`);
        }
      } else {
        process.stdout.write(schemas[0]?.text ?? '');
      }
    });
}
