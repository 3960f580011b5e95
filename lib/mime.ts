// A small Content-Type table for the extensions a web app commonly serves.

const utf8 = '; charset=utf-8';

const TYPES: Record<string, string> = {
  html: 'text/html' + utf8,
  htm: 'text/html' + utf8,
  css: 'text/css' + utf8,
  js: 'text/javascript' + utf8,
  mjs: 'text/javascript' + utf8,
  cjs: 'text/javascript' + utf8,
  json: 'application/json' + utf8,
  map: 'application/json' + utf8,
  webmanifest: 'application/manifest+json' + utf8,
  txt: 'text/plain' + utf8,
  md: 'text/markdown' + utf8,
  csv: 'text/csv' + utf8,
  xml: 'application/xml' + utf8,
  svg: 'image/svg+xml' + utf8,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
};

/** Default type for unknown extensions. */
export const DEFAULT_MIME_TYPE = 'application/octet-stream';

/**
 * The Content-Type for a file name or path, from its extension (case-insensitive);
 * text types carry `charset=utf-8`. Unknown extensions give `fallback`.
 */
export function mimeType(path: string, fallback: string = DEFAULT_MIME_TYPE): string {
  const dot = path.lastIndexOf('.');
  if (dot === -1 || path.indexOf('/', dot) !== -1) return fallback;
  const ext = path.slice(dot + 1).toLowerCase();
  return Object.prototype.hasOwnProperty.call(TYPES, ext) ? TYPES[ext]! : fallback;
}
