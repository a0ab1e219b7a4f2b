/**
 * One `stack up` or `stack down` at a time per data folder: `npm test` in one terminal and
 * `npm run demo` in another would otherwise both run apt-get (which holds dpkg's lock), build
 * FerretDB into the same file and start each service twice.
 *
 * The lock is a listening Unix socket in Linux's abstract namespace, named after the data
 * folder: the kernel frees it when its holder exits, kill -9 included, so there is no stale
 * lock file to judge or clean up. The name comes from the folder's real path, so a symlink to
 * it shares its lock. Abstract sockets are per network namespace: commands in two different
 * containers sharing one folder do not see each other's lock.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JunctionError } from '../../config/errors.js';

export interface StackLockOptions {
  /** How long to wait for the other command. @defaultValue 30 minutes (a first start installs packages and builds FerretDB) */
  waitMs?: number;
  log?: (line: string) => void;
}

const socketName = (dataDir: string) => `\0junction-stack-${createHash('sha256').update(canonical(dataDir)).digest('hex').slice(0, 32)}`;

/** One name per folder however it is reached (symlinks, `..`): the real path of its deepest existing part, plus the rest. */
function canonical(dir: string): string {
  let head = path.resolve(dir);
  const rest: string[] = [];
  // lstat: a symlink whose target does not exist yet still names the folder it will be.
  while (!fs.lstatSync(head, { throwIfNoEntry: false }) && path.dirname(head) !== head) {
    rest.unshift(path.basename(head));
    head = path.dirname(head);
  }
  try {
    return path.join(fs.realpathSync(head), ...rest);
  } catch {
    // A dangling symlink, or a folder we may not read: the path as given still separates folders.
    return path.resolve(dir);
  }
}

function tryListen(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    server.listen({ path: name }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** Runs `fn` holding the data folder's stack lock, waiting for another holder first. */
export async function withStackLock<T>(dataDir: string, fn: () => Promise<T>, options: StackLockOptions = {}): Promise<T> {
  const name = socketName(dataDir);
  const waitMs = options.waitMs ?? 30 * 60_000;
  const deadline = Date.now() + waitMs;
  let server = await tryListen(name);
  if (!server) options.log?.(`another junction stack command is running on ${dataDir}; waiting for it to finish…`);
  while (!server) {
    if (Date.now() > deadline) {
      throw new JunctionError('STACK_BUSY', `another junction stack command on ${dataDir} did not finish within ${Math.round(waitMs / 1000)} s; see its output, or stop it`, {
        details: { dataDir },
      });
    }
    await sleep(200);
    server = await tryListen(name);
  }
  try {
    return await fn();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
