/**
 * The web UI's built files (gateway/web/dist, made by `npm run web:build`), served by the
 * gateway (agent console, widget, assets) and by the ops server (ops console, assets).
 *
 * Pages are sent with `no-cache` (a new build shows at the next load) and a Content Security
 * Policy that allows scripts from this origin only; assets have content-hashed names and are
 * cached for a year. A page asked for before the UI was built answers 503 GW_WEB_NOT_BUILT
 * with the command that builds it, instead of a bare 404.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';
import { JunctionError } from '../../config/errors.js';

/** Where `npm run web:build` writes. */
export const WEB_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

export type WebPage = 'agent' | 'ops';

/**
 * Scripts only from this origin (no inline script anywhere); styles may be inline (React's
 * style attributes, the widget's shadow root); sockets to this origin; no framing except by
 * this origin, so another site cannot overlay the console.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function pageHeaders(res: express.Response, csp = PAGE_CSP): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-cache');
}

function notBuilt(what: string): JunctionError {
  return new JunctionError('GW_WEB_NOT_BUILT', `the web UI is not built (${what} is missing): run npm run web:build`);
}

/** Sends `dist/<page>/index.html`. */
export function webPage(page: WebPage, distDir = WEB_DIST): RequestHandler {
  const file = path.join(distDir, page, 'index.html');
  return (_req, res, next) => {
    if (!fs.existsSync(file)) {
      next(notBuilt(`${page}/index.html`));
      return;
    }
    pageHeaders(res);
    res.sendFile(file);
  };
}

/** `/assets/*`: hashed bundles, cached for a year. Mount at `/assets`. */
export function webAssets(distDir = WEB_DIST): RequestHandler {
  return express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '365d', index: false });
}

/**
 * `/widget.js`: the embeddable widget. Its name is stable (sites embed it), so it is
 * revalidated rather than cached for long; any origin may load it (it is a public script).
 */
export function widgetScript(distDir = WEB_DIST): RequestHandler {
  const file = path.join(distDir, 'widget.js');
  return (_req, res, next) => {
    if (!fs.existsSync(file)) {
      next(notBuilt('widget.js'));
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=300, must-revalidate');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.sendFile(file);
  };
}
