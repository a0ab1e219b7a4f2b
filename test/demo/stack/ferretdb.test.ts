/**
 * How the stack builds FerretDB, with a fake `go` on PATH (the real build takes minutes and
 * the module proxy). The fake behaves like the real toolchain did: `go install` of the
 * release module builds a binary without its version stamp, which panics at start; a build
 * from a copy whose `build/version/version.txt` was written starts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isJunctionError } from '../../../config/errors.js';
import { ensureFerretdb } from '../../../demo/stack/ferretdb.js';

const FAKE_GO = String.raw`#!/bin/bash
set -e
binary() { # $1 out, $2 version stamp ('' = none)
  if [ -n "$2" ] && [ -z "$FAKE_GO_BROKEN" ]; then
    printf '#!/bin/bash\necho "version: %s"\n' "$2" > "$1"
  else
    printf '#!/bin/bash\necho "panic: Invalid build/version/version.txt file content" >&2\nexit 2\n' > "$1"
  fi
  chmod +x "$1"
}
case "$1" in
  version) echo "go version go${'$'}{FAKE_GO_VERSION:-1.26.8} linux/amd64" ;;
  install) binary "$GOBIN/ferretdb" "" ;;
  mod)
    ver="${'$'}{4##*@}"
    if [[ " $FAKE_GO_REFUSE " == *" $ver "* ]]; then echo "reading proxy: 403 Forbidden" >&2; exit 1; fi
    dir="$FAKE_GO_MODS/$ver"; mkdir -p "$dir/build/version" "$dir/cmd/ferretdb"; chmod -R a-w "$dir"
    echo "{\"Dir\": \"$dir\"}" ;;
  build)
    stamp=$(cat build/version/version.txt 2>/dev/null || true)
    binary "$3" "$(echo "$stamp" | tr -d '\n')"
    echo "build $stamp" >> "$FAKE_GO_LOG" ;;
  *) echo "fake go: $*" >&2; exit 1 ;;
esac
`;

let root: string;
let saved: NodeJS.ProcessEnv;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-ferretdb-'));
  fs.mkdirSync(path.join(root, 'fakebin'));
  fs.writeFileSync(path.join(root, 'fakebin', 'go'), FAKE_GO, { mode: 0o755 });
  saved = { ...process.env };
  process.env.PATH = `${path.join(root, 'fakebin')}:${process.env.PATH ?? ''}`;
  process.env.FAKE_GO_MODS = path.join(root, 'mods');
  process.env.FAKE_GO_LOG = path.join(root, 'go.log');
  delete process.env.FAKE_GO_REFUSE;
  delete process.env.FAKE_GO_BROKEN;
  delete process.env.FAKE_GO_VERSION;
});

afterEach(() => {
  process.env = saved;
  spawnSync('chmod', ['-R', 'u+w', root]);
  fs.rmSync(root, { recursive: true, force: true });
});

const dataDir = () => path.join(root, 'data');
const version = (bin: string) => spawnSync(bin, ['--version'], { encoding: 'utf8' });
const build = () => ensureFerretdb(dataDir(), undefined, () => undefined);

describe('ensureFerretdb (fake go on PATH)', () => {
  it('builds v1.24.1 from a stamped copy: the binary starts', () => {
    const bin = build();
    expect(version(bin)).toMatchObject({ status: 0, stdout: 'version: v1.24.1\n' });
  });

  it('rebuilds a binary left by an older build that does not start', () => {
    fs.mkdirSync(path.join(dataDir(), 'bin'), { recursive: true });
    fs.writeFileSync(path.join(dataDir(), 'bin', 'ferretdb'), '#!/bin/bash\nexit 2\n', { mode: 0o755 });
    expect(version(build())).toMatchObject({ status: 0, stdout: 'version: v1.24.1\n' });
  });

  it('keeps a binary that starts, without building', () => {
    build();
    fs.rmSync(process.env.FAKE_GO_LOG!);
    build();
    expect(fs.existsSync(process.env.FAKE_GO_LOG!)).toBe(false);
  });

  it('falls back to v1.24.0 when the proxy refuses v1.24.1', () => {
    process.env.FAKE_GO_REFUSE = 'v1.24.1';
    expect(version(build())).toMatchObject({ status: 0, stdout: 'version: v1.24.0\n' });
  });

  it('a Go older than the module needs (Debian 12 has 1.19) is refused up front, naming the version', () => {
    process.env.FAKE_GO_VERSION = '1.19.8';
    expect(() => build()).toThrow(/needs Go 1\.22 or newer; this machine has go1\.19/);
    expect(fs.existsSync(process.env.FAKE_GO_LOG!)).toBe(false);
  });

  it('fails with STACK_START_FAILED, naming each version, when no build starts; no binary is left', () => {
    process.env.FAKE_GO_BROKEN = '1';
    let err: unknown;
    try {
      build();
    } catch (e) {
      err = e;
    }
    expect(isJunctionError(err) && err.code).toBe('STACK_START_FAILED');
    expect((err as Error).message).toMatch(/v1\.24\.1: the built binary does not start[\s\S]*v1\.24\.0: the built binary does not start/);
    expect(fs.existsSync(path.join(dataDir(), 'bin', 'ferretdb'))).toBe(false);
  });
});
