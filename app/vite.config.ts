import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const app = fileURLToPath(new URL('.', import.meta.url));
const repository = fileURLToPath(new URL('..', import.meta.url));

/**
 * The CCP app (docs/APP.md), built to static files the server serves under /app/ with a strict CSP
 * (`script-src 'self'; style-src 'self'`): so nothing may end up inline. Assets are never inlined as data: URLs
 * (the CSP would need `data:`), and no module-preload polyfill is injected (the browsers we serve have it).
 */
export default defineConfig({
  root: app,
  base: '/app/',
  plugins: [preact({ prerender: { enabled: false } })],
  // fhirclient's sources (app/src/launch/smart.ts uses its BrowserAdapter) pick `window.fetch` over the cross-fetch
  // polyfill when FHIRCLIENT_PURE is defined, as in its own "pure" browser build: the browsers we serve have fetch.
  define: { FHIRCLIENT_PURE: 'true' },
  build: {
    outDir: `${repository}dist/app`,
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
});
