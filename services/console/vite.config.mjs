import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

// The console's page: Preact + Chart.js + @dibs/client, bundled into dist/web, which the
// console's server (src/app.ts) serves. The workspace's packages are bundled from their
// TypeScript sources (the `source` condition), as the tests read them.
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One app of three pages; zod (the SDK's schemas) and Chart.js are most of it.
    chunkSizeWarningLimit: 800,
  },
});
