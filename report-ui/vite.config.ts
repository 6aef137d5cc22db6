import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { viteSingleFile } from 'vite-plugin-singlefile';
import type { Plugin } from 'vite';

/**
 * The report must never touch the network: only its own inline script and style, blob/data workers and images.
 * script-src and style-src stay 'none' here: skeleton_replay/render/html.py sets them to the sha256 hashes of
 * this file's inline <script> and <style> when it writes report.html, so nothing else inline can run.
 */
export const CSP = "default-src 'none'; script-src 'none'; style-src 'none'; img-src data: blob:; " +
  "worker-src blob: data:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'";

function cspMeta(): Plugin {
  return {
    name: 'skeleton-csp',
    apply: 'build', // the dev server needs its module scripts and HMR socket
    transformIndexHtml: (html) => html.replace('<meta charset="utf-8" />',
      `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`),
  };
}

// One self-contained HTML file (JS, CSS and the ELK worker inlined); see scripts/build.sh.
export default defineConfig({
  base: './',
  plugins: [react(), cspMeta(), viteSingleFile({ removeViteModuleLoader: true })],
  build: {
    target: 'es2022',
    assetsInlineLimit: 100_000_000,
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: false,
  },
  worker: { format: 'iife' },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
