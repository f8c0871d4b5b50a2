import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// keepGitkeep puts back dist/.gitkeep, which emptyOutDir removes: it is
// committed so that Go's //go:embed finds the folder before the first build.
function keepGitkeep(): Plugin {
  return {
    name: 'lanfeed-keep-gitkeep',
    apply: 'build',
    closeBundle() {
      writeFileSync(resolve(import.meta.dirname, 'dist/.gitkeep'), '');
    },
  };
}

// The node serves the bundle at "/" to LAN browsers and Wails embeds it, so
// asset URLs are relative ("./") and the bundle works under any path.
// `npm run dev` proxies the API to a local lanfeedd (LANFEED_URL, default
// http://127.0.0.1:7700) so the browser transport can be developed live.
const backend = process.env.LANFEED_URL ?? 'http://127.0.0.1:7700';

export default defineConfig({
  base: './',
  plugins: [react(), keepGitkeep()],
  build: {
    outDir: 'dist',
    emptyOutDir: true, // no stale hashed assets in the embedded bundle

    target: 'es2020',
  },
  server: {
    proxy: {
      '/api': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
