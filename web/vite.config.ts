import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const target = process.env.CONSOLE_API_URL ?? 'http://localhost:3000';

/** The console: built into dist/web and served by the service at /console (same origin as the API). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No inline script or data: module anywhere: the console's CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
  },
  // `npm run dev:web`: Vite's dev server, the API proxied to a running service (CONSOLE_API_URL).
  server: { port: 5173, proxy: { '/api': { target, changeOrigin: false } } },
});
