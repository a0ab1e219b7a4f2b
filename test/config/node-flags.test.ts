import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HUB_NODE_FLAGS, PROJECT_ROOT } from '../../config/env.js';

// The flags are written out in two places that cannot import them: the CLI's `#!` line and
// the npm scripts. These keep them in step with HUB_NODE_FLAGS.
describe('hub process V8 flags', () => {
  it('the #! line of bin/junction.js passes every flag', () => {
    const shebang = fs.readFileSync(path.join(PROJECT_ROOT, 'bin/junction.js'), 'utf8').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(shebang.split(' ').slice(3)).toEqual([...HUB_NODE_FLAGS]);
  });

  it('npm run bench passes every flag', () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.bench).toBe(`node ${HUB_NODE_FLAGS.join(' ')} bin/junction.js bench`);
  });
});
