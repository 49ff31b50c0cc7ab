import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { type FramePolicy, setFrameOptions } from './frame-policy.js';
import { notModified } from './not-modified.js';

/** Where the app is served: its redirect URI is this path on the server's origin (server/auth/app-client.ts). */
export const APP_PATH = '/app/';

/**
 * The app's policy: its own scripts, styles, images and fonts only, nothing inline, requests only to this origin
 * (the FHIR API and the token endpoint), framed only by the EHRs that embed it. It may frame its own origin: the
 * sign-in pages, when an EHR on another site frames the app and the browser denies it storage (docs/APP.md).
 */
export function appContentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

interface AppFile {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/** Vite names every file under assets/ by its content's hash: a changed file is a new name, so it never goes stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else, index.html first, is asked again each time (a 304 while unchanged), so a new build shows at once. */
const REVALIDATE = 'no-cache';

/**
 * Every file of the built app (dist/app), by its path under /app/, read once. A request can only ever reach a key
 * of this map: nothing is looked up on disk by a name taken from the request, so no path can leave the folder.
 * Dot files and symbolic links are left out.
 */
function readAppFiles(dir: string): Map<string, AppFile> | undefined {
  if (!existsSync(path.join(dir, 'index.html'))) return undefined;
  const files = new Map<string, AppFile>();
  const walk = (folder: string, prefix: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
      else if (entry.isFile()) {
        const body = readFileSync(full);
        const type = TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream';
        files.set(`${prefix}${entry.name}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
      }
    }
  };
  walk(dir, '');
  return files;
}

/**
 * The path under /app/ as the key of a file, or undefined when it could only be an attempt to step out of the
 * folder or to confuse a lookup: `.` or `..` segments, encoded or not (and any segment starting with a dot: dot
 * files are not served, nor is the app's page in their place), encoded slashes or backslashes, NUL, `%` left after
 * decoding (double encoding), empty segments within the path.
 */
function keyOf(rawPath: string): string | undefined {
  const segments = rawPath.slice(APP_PATH.length).split('/');
  const decoded: string[] = [];
  for (const [index, segment] of segments.entries()) {
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    if (text === '' && index < segments.length - 1) return undefined;
    if (text.startsWith('.') || /[/\\\0%]/.test(text)) return undefined;
    decoded.push(text);
  }
  return decoded.join('/');
}

/**
 * Serves the single-page app from its built folder under /app/: its files as they are, and index.html for every
 * other path (the app's own routes: `/app/launch?iss=…&launch=…`, `/app/?code=…`), except under assets/, where a
 * missing file is a 404 rather than a page a script tag would choke on. Until the app is built, a 503 says so.
 */
export function appHost(dir: string | undefined, frames: FramePolicy) {
  let files: Map<string, AppFile> | undefined;
  const policy = appContentSecurityPolicy(frames.app);

  return (req: Request, res: Response, next: NextFunction): void => {
    const pathname = req.path;
    if (pathname === '/app') {
      const query = req.originalUrl.indexOf('?');
      return void res.redirect(308, `${APP_PATH}${query === -1 ? '' : req.originalUrl.slice(query)}`);
    }
    if (!pathname.startsWith(APP_PATH)) return next();

    res.setHeader('Content-Security-Policy', policy);
    setFrameOptions(res, frames.appFrameOptions);
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.status(405).set('Allow', 'GET, HEAD').type('text/plain').send('Only GET and HEAD are served under /app/.\n');
    if (dir !== undefined) files ??= readAppFiles(dir);
    if (!files) {
      return void res
        .status(503)
        .set({ 'Cache-Control': 'no-store', 'Retry-After': '60' })
        .type('text/plain')
        .send('The app is not built. Run `npm run build` (npm start does it) and restart the server.\n');
    }

    const key = keyOf(pathname);
    if (key === undefined) return notFound(res);
    const file = files.get(key === '' ? 'index.html' : key);
    if (!file && (key === 'assets' || key.startsWith('assets/'))) return notFound(res);
    send(req, res, file ?? files.get('index.html')!, file !== undefined && key.startsWith('assets/') ? IMMUTABLE : REVALIDATE);
  };
}

function send(req: Request, res: Response, file: AppFile, cacheControl: string): void {
  res.set({ 'Content-Type': file.type, 'Cache-Control': cacheControl, ETag: file.etag });
  // The transport's one rule for conditional GETs, as every FHIR response has it.
  if (notModified(req.method, 200, req.headers, { etag: file.etag })) return void res.status(304).end();
  res.status(200).set('Content-Length', String(file.body.length)).end(file.body);
}

function notFound(res: Response): void {
  res.status(404).set('Cache-Control', 'no-store').type('text/plain').send('Not found.\n');
}
