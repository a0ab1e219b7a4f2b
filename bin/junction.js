#!/usr/bin/env -S node --max-semi-space-size=64
// The `junction` CLI entry. Sources are TypeScript run through tsx's loader, so there is
// no build step and no stale output: `npx junction …` works right after `npm install`.
import { register } from 'tsx/esm/api';

// oracledb Thin reads and binds Oracle DATE/TIMESTAMP through the local zone, where a DST
// gap turns a stored 02:30 into 03:30; in UTC every wall clock exists (connectors/sql/process-zone.ts).
process.env.TZ = 'UTC';
register();
await import('./cli.ts');
