/**
 * Debian packages the stack needs. As root, missing ones are installed with apt-get;
 * otherwise the stack stops with one line naming what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { JunctionError } from '../../config/errors.js';

function installed(pkg: string): boolean {
  const res = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.includes('install ok installed');
}

function aptInstall(pkgs: string[]): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = () =>
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run().status === 0) return true;
  // Stale package lists are the usual cause on a fresh machine.
  spawnSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return run().status === 0;
}

/** Makes sure every package in `pkgs` is installed (or throws STACK_MISSING_BINARY). */
export function ensurePackages(pkgs: string[], log: (line: string) => void): void {
  const missing = [...new Set(pkgs)].filter((p) => !installed(p));
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    log(`installing Debian packages: ${missing.join(' ')}`);
    if (aptInstall(missing)) return;
  }
  throw new JunctionError(
    'STACK_MISSING_BINARY',
    `missing Debian packages; install them with: sudo apt-get install -y ${missing.join(' ')}`,
  );
}

/** The directory of the newest Debian PostgreSQL server binaries (/usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string {
  const out = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1'], {
    encoding: 'utf8',
  }).trim();
  if (!out) {
    throw new JunctionError('STACK_MISSING_BINARY', 'PostgreSQL server binaries not found under /usr/lib/postgresql; install: apt-get install -y postgresql');
  }
  return out;
}

/** uid/gid of a system user, or undefined when it does not exist. */
export function userIds(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
