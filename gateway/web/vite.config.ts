/**
 * The pages (agent console at /agent, ops console at /ops): one multi-page build into
 * gateway/web/dist, with hashed assets under /assets/ that the gateway and the ops server
 * both serve. The chat widget is a separate build (vite.widget.config.ts): a single IIFE file
 * a retailer's site can embed with one <script> tag.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        agent: `${root}agent/index.html`,
        ops: `${root}ops/index.html`,
      },
    },
  },
});
