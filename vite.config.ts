/**
 * Builds web/ into the installable PWA in dist/: the Svelte app, the service
 * worker (web/src/sw.ts, with the precache manifest injected) and the web app
 * manifest (read from manifest.webmanifest, so there is one copy of it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA, type ManifestOptions } from 'vite-plugin-pwa';

const manifest = JSON.parse(
  readFileSync(fileURLToPath(new URL('./manifest.webmanifest', import.meta.url)), 'utf8'),
) as Partial<ManifestOptions>;

/** The sync server the dev server forwards to (PARLEY_PORT's default). */
const backend = 'http://localhost:8080';

export default defineConfig({
  root: 'web',
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    // Everything the entry loads statically is one chunk: rolldown would otherwise split the modules a lazy
    // chunk shares with the entry into more initial chunks, each compressed apart (W6 counts initial JS gzip).
    rolldownOptions: { output: { codeSplitting: { groups: [{ name: 'app', tags: ['$initial'] }] } } },
  },
  plugins: [
    svelte(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // The page registers the worker itself (workbox-window) to drive the update prompt.
      injectRegister: false,
      manifestFilename: 'manifest.webmanifest',
      manifest,
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
      },
    }),
  ],
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/sync': { target: backend, ws: true, changeOrigin: true },
    },
  },
});
