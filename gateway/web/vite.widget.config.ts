/**
 * The embeddable chat widget: `dist/widget.js`, one self-contained IIFE (no React: it lands
 * on a retailer's page, so it stays small and touches nothing outside its shadow root).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    // The pages' build runs first and owns the folder.
    emptyOutDir: false,
    sourcemap: true,
    lib: {
      entry: `${root}src/widget/widget.ts`,
      name: 'JunctionChat',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
});
