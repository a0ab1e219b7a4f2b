#!/usr/bin/env -S node --max-semi-space-size=64
// The `junction` CLI entry. Sources are TypeScript run through tsx's loader, so there is
// no build step and no stale output: `npx junction …` works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
