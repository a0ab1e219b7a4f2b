/**
 * FerretDB v1 (MongoDB wire protocol on SQLite) is built from source with Go into the data
 * folder the first time the stack needs it.
 *
 * `go install …/cmd/ferretdb@v1.24.1` is tried first. The Go module proxy reachable here
 * refuses v1.24.1 and the module's version list (HTTP 403), which also breaks `go install`
 * for any version (it loads the list for deprecation notices). So the fallback downloads
 * the v1.24.0 module with `go mod download`, which needs neither, and builds it from a copy.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JunctionError } from '../../config/errors.js';

const MODULE = 'github.com/FerretDB/FerretDB';
const PREFERRED = 'v1.24.1';
const FALLBACK = 'v1.24.0';

function go(args: string[], cwd: string | undefined, env: NodeJS.ProcessEnv) {
  return spawnSync('go', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Returns a FerretDB binary: `preset` if given, else `<dataDir>/bin/ferretdb`, built if missing. */
export function ensureFerretdb(dataDir: string, preset: string | undefined, log: (line: string) => void): string {
  if (preset) return preset;
  const binDir = path.join(dataDir, 'bin');
  const bin = path.join(binDir, 'ferretdb');
  if (fs.existsSync(bin)) return bin;
  if (spawnSync('go', ['version']).status !== 0) {
    throw new JunctionError('STACK_MISSING_BINARY', 'Go is needed once to build FerretDB; install Go or set JUNCTION_FERRETDB_BIN (or JUNCTION_MONGO_URL)');
  }
  fs.mkdirSync(binDir, { recursive: true });
  const env = { ...process.env, GOBIN: binDir, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };

  log(`building FerretDB ${PREFERRED} with Go (once; about two minutes)…`);
  const direct = go(['install', `${MODULE}/cmd/ferretdb@${PREFERRED}`], undefined, env);
  if (direct.status === 0 && fs.existsSync(bin)) return bin;

  log(`go install ${PREFERRED} failed (${firstLine(direct.stderr)}); building ${FALLBACK} from its module instead`);
  const download = go(['mod', 'download', '-json', `${MODULE}@${FALLBACK}`], undefined, env);
  const dir = download.status === 0 ? (JSON.parse(download.stdout) as { Dir?: string }).Dir : undefined;
  if (!dir) {
    throw new JunctionError('STACK_START_FAILED', `could not download FerretDB ${FALLBACK}: ${firstLine(download.stderr || download.stdout)}`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferretdb-src-'));
  try {
    fs.cpSync(dir, work, { recursive: true });
    // The module cache is read-only; the copy must be writable to stamp it and remove it.
    spawnSync('chmod', ['-R', 'u+w', work]);
    // The release build stamps its version into this file (normally from `git describe`).
    const versionFile = path.join(work, 'build', 'version', 'version.txt');
    fs.writeFileSync(versionFile, `${FALLBACK}\n`);
    const build = go(['build', '-o', bin, './cmd/ferretdb'], work, env);
    if (build.status !== 0) {
      throw new JunctionError('STACK_START_FAILED', `FerretDB build failed:\n${build.stderr.split('\n').slice(-15).join('\n')}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim()) ?? 'no output';
}
