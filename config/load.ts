/**
 * Loads `junction.yaml` and every mapping it references: parse (with positions), interpolate
 * `${VAR}`, validate with zod, check references, and return one deep-frozen config with
 * defaults applied — or throw {@link ConfigErrors} listing every problem of every file.
 */
import path from 'node:path';
import type * as z from 'zod';
import { configEnv } from './env.js';
import { JunctionError } from './errors.js';
import type { Env } from './interpolate.js';
import { issueMessages, issuesToErrors, type IssueSource } from './issues.js';
import { mappingSchema, type MappingConfig } from './mapping-schema.js';
import { positionAt } from './positions.js';
import { redact, registerSecrets, SECRET_ENV_NAME } from './redact.js';
import { checkMapping, checkSchedules } from './references.js';
import { checkMappingSource, type MappingSourceInfo } from '../pipelines/map/validate.js';
import { configSchema, type ConfigDocument } from './schema.js';
import { collectSecrets } from './secret.js';
import { readYamlFile, type YamlFile } from './yaml-file.js';

/** Readonly all the way down, as the loader freezes it. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** A mapping file the config references, validated. */
export interface LoadedMapping {
  /** Absolute path of the mapping file. */
  file: string;
  /** The entry as written in `mappings:` (relative to the config's folder). */
  ref: string;
  mapping: MappingConfig;
  /** Where its parts are defined (lineage) and its version label (pipelines/map/validate.ts). */
  info: MappingSourceInfo;
}

/** The validated config: the document with defaults, plus where it came from and its mappings. */
export type ResolvedConfig = DeepReadonly<
  Omit<ConfigDocument, 'mappings'> & {
    /** Absolute path of the config file. */
    file: string;
    /** Its folder: mapping paths are relative to it. */
    dir: string;
    mappings: LoadedMapping[];
  }
>;

export interface LoadOptions {
  /** Variables for `${VAR}` interpolation. @defaultValue process.env */
  env?: Env;
  /** Error file names are printed relative to this folder. @defaultValue process.cwd() */
  relativeTo?: string;
}

/** Every problem found while loading, sorted by file, line and column. */
export class ConfigErrors extends Error {
  readonly errors: readonly JunctionError[];

  constructor(errors: readonly JunctionError[]) {
    super(`${errors.length} configuration error${errors.length === 1 ? '' : 's'}:\n${errors.map((e) => e.format()).join('\n')}`);
    this.name = 'ConfigErrors';
    this.errors = errors;
  }
}

export function isConfigErrors(err: unknown): err is ConfigErrors {
  return err instanceof ConfigErrors;
}

function validate<S extends z.ZodType>(schema: S, src: IssueSource, errors: JunctionError[]): z.output<S> | undefined {
  const result = schema.safeParse(src.data, { error: issueMessages });
  if (result.success) return result.data;
  errors.push(...issuesToErrors(result.error.issues, src));
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function envSecrets(files: YamlFile[]): string[] {
  return files.flatMap((f) => f.used.filter((u) => SECRET_ENV_NAME.test(u.name)).map((u) => u.value));
}

function compare(a: JunctionError, b: JunctionError): number {
  const wa = a.where ?? {};
  const wb = b.where ?? {};
  return (
    (wa.file ?? '').localeCompare(wb.file ?? '') ||
    (wa.line ?? 0) - (wb.line ?? 0) ||
    (wa.col ?? 0) - (wb.col ?? 0) ||
    a.code.localeCompare(b.code)
  );
}

interface MappingRef {
  index: number;
  ref: string;
  abs: string;
}

/** The `mappings:` entries that are strings, reporting repeated ones. */
function mappingRefs(cfg: IssueSource, dir: string, errors: JunctionError[]): MappingRef[] {
  const raw = (cfg.data as { mappings?: unknown } | null)?.mappings;
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  const refs: MappingRef[] = [];
  raw.forEach((ref: unknown, index) => {
    if (typeof ref !== 'string' || !/\.ya?ml$/.test(ref)) return;
    const abs = path.resolve(dir, ref);
    if (seen.has(abs)) {
      const { line, col } = positionAt(cfg.doc, cfg.lineCounter, ['mappings', index]);
      errors.push(new JunctionError('CFG_DUPLICATE_NAME', `mapping ${ref} is listed twice`, { where: { file: cfg.file, line, col, path: `mappings[${index}]` } }));
      return;
    }
    seen.add(abs);
    refs.push({ index, ref, abs });
  });
  return refs;
}

/**
 * The directory that mapping labels (lineage, `mapping_version`) are relative to: the deepest
 * one holding the config file and every mapping. Labels are stored, so they must not depend
 * on the working directory of the process that loaded the config: workers started from
 * different directories would each see the other's records as mapped by another version.
 */
function labelRoot(configDir: string, mappingFiles: string[]): string {
  let root = configDir;
  for (const file of mappingFiles) {
    while (path.relative(root, file).startsWith('..')) root = path.dirname(root);
  }
  return root;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/**
 * Loads and validates `file` and every mapping it lists.
 * @throws {@link ConfigErrors} with every problem found, messages redacted.
 */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? configEnv();
  const relativeTo = options.relativeTo ?? process.cwd();
  const abs = path.resolve(relativeTo, file);
  const dir = path.dirname(abs);
  const show = (p: string) => path.relative(relativeTo, p) || p;

  const errors: JunctionError[] = [];
  const secrets = new Set<string>();
  const main = await readYamlFile(abs, show(abs), env);
  errors.push(...main.errors);
  const files: YamlFile[] = [main];
  let document: ConfigDocument | undefined;
  const mappings: LoadedMapping[] = [];

  if (main.source) {
    const cfg = main.source;
    collectSecrets(configSchema, cfg.data, secrets);
    document = validate(configSchema, cfg, errors);
    errors.push(...checkSchedules(cfg));
    const refs = mappingRefs(cfg, dir, errors);
    const root = labelRoot(dir, refs.map((r) => r.abs));
    const loaded = await Promise.all(
      refs.map(async (r) => {
        const { line, col } = positionAt(cfg.doc, cfg.lineCounter, ['mappings', r.index]);
        const where = { file: cfg.file, line, col, path: `mappings[${r.index}]` };
        return { ref: r, yaml: await readYamlFile(r.abs, show(r.abs), env, where) };
      }),
    );
    // One mapping per stream: syncs and replays take the first that reads it, so a second
    // would preview as if it were live and never run.
    const streams = new Map<string, string>();
    for (const { ref, yaml } of loaded) {
      files.push(yaml);
      errors.push(...yaml.errors);
      if (!yaml.source) continue;
      const mapping = validate(mappingSchema, yaml.source, errors);
      errors.push(...checkMapping(cfg.data, yaml.source));
      const checked = checkMappingSource(cfg.data, yaml.source, toPosix(path.relative(root, ref.abs)));
      errors.push(...checked.errors);
      if (!mapping) continue;
      const stream = `${mapping.source}.${mapping.stream}`;
      const first = streams.get(stream);
      if (first !== undefined) {
        const { line, col } = positionAt(yaml.source.doc, yaml.source.lineCounter, ['stream'], 'value');
        errors.push(new JunctionError('CFG_DUPLICATE_NAME', `${stream} is already mapped by ${first}: one mapping file per stream`, { where: { file: yaml.source.file, line, col, path: 'stream' } }));
        continue;
      }
      streams.set(stream, ref.ref);
      mappings.push({ file: ref.abs, ref: ref.ref, mapping, info: checked.info });
    }
  }
  envSecrets(files).forEach((s) => secrets.add(s));

  if (errors.length > 0 || !document) {
    const list = [...secrets];
    const redacted = errors
      .map((e) => new JunctionError(e.code, redact(e.message, list), { cause: e.cause, where: e.where, details: e.details }))
      .sort(compare);
    throw new ConfigErrors(redacted);
  }
  const resolved = deepFreeze({ ...document, file: abs, dir, mappings }) as ResolvedConfig;
  registerSecrets(resolved, secrets);
  return resolved;
}
