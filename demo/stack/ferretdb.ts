/**
 * FerretDB v1 (MongoDB wire protocol on SQLite) is built from source with Go into the data
 * folder the first time the stack needs it.
 *
 * Always from a copy of the module with its version stamped: the release build writes
 * `build/version/version.txt` from `git describe`, and the module as the proxy serves it
 * lacks the file, so a plain `go install …@v1.24.1` builds a binary that panics at start.
 * `go mod download` fetches the module (it needs no version list, which the proxy reachable
 * here has refused with HTTP 403); v1.24.1 is tried first, then v1.24.0. A binary is kept
 * only once `ferretdb --version` runs, and one that does not (left by an older build) is
 * rebuilt.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JunctionError } from '../../config/errors.js';

const MODULE = 'github.com/FerretDB/FerretDB';
/** Tried in order. */
const VERSIONS = ['v1.24.1', 'v1.24.0'];
/** What v1.24.0's go.mod asks for (v1.24.1's asks for 1.24, and the fallback covers it). */
const MIN_GO = '1.22';

function go(args: string[], cwd: string | undefined, env: NodeJS.ProcessEnv) {
  return spawnSync('go', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Returns a FerretDB binary: `preset` if given, else `<dataDir>/bin/ferretdb`, built if missing. */
export function ensureFerretdb(dataDir: string, preset: string | undefined, log: (line: string) => void): string {
  if (preset) return preset;
  const binDir = path.join(dataDir, 'bin');
  const bin = path.join(binDir, 'ferretdb');
  if (fs.existsSync(bin)) {
    if (runs(bin)) return bin;
    log(`${bin} does not start; building it again`);
    fs.rmSync(bin, { force: true });
  }
  const goVersion = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (goVersion.status !== 0) {
    throw new JunctionError('STACK_MISSING_BINARY', `Go ${MIN_GO} or newer is needed once to build FerretDB; install Go or set JUNCTION_FERRETDB_BIN (or JUNCTION_MONGO_URL)`);
  }
  const found = /go(\d+)\.(\d+)/.exec(goVersion.stdout);
  if (found && Number(found[1]) * 1000 + Number(found[2]) < 1022) {
    throw new JunctionError(
      'STACK_MISSING_BINARY',
      `FerretDB's module needs Go ${MIN_GO} or newer; this machine has ${found[0]} (Debian 12's golang-go is 1.19: take Go from go.dev or bookworm-backports), or set JUNCTION_FERRETDB_BIN (or JUNCTION_MONGO_URL)`,
    );
  }
  fs.mkdirSync(binDir, { recursive: true });
  const env = { ...process.env, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  const failures: string[] = [];
  for (const version of VERSIONS) {
    log(`building FerretDB ${version} with Go (once; about two minutes)…`);
    const failure = build(version, bin, env);
    if (failure === null) return bin;
    failures.push(`${version}: ${failure}`);
    log(`FerretDB ${version} not built (${firstLine(failure)})`);
  }
  throw new JunctionError('STACK_START_FAILED', `could not build FerretDB:\n${failures.join('\n')}`);
}

/** Whether `bin` starts: prints its version and exits 0. */
function runs(bin: string): boolean {
  return spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 }).status === 0;
}

/** Downloads, stamps and builds `version` into `bin`; null when it worked, else why not. */
function build(version: string, bin: string, env: NodeJS.ProcessEnv): string | null {
  const download = go(['mod', 'download', '-json', `${MODULE}@${version}`], undefined, env);
  const dir = download.status === 0 ? (JSON.parse(download.stdout) as { Dir?: string }).Dir : undefined;
  if (!dir) return `download failed: ${firstLine(download.stderr || download.stdout)}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferretdb-src-'));
  try {
    fs.cpSync(dir, work, { recursive: true });
    // The module cache is read-only; the copy must be writable to stamp it and remove it.
    spawnSync('chmod', ['-R', 'u+w', work]);
    fs.writeFileSync(path.join(work, 'build', 'version', 'version.txt'), `${version}\n`);
    const built = go(['build', '-o', bin, './cmd/ferretdb'], work, env);
    if (built.status !== 0) return `build failed:\n${built.stderr.split('\n').slice(-15).join('\n')}`;
    if (runs(bin)) return null;
    fs.rmSync(bin, { force: true });
    return 'the built binary does not start (ferretdb --version failed)';
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim()) ?? 'no output';
}
