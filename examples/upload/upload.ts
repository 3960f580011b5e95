// An upload form: GET shows the form, POST receives multipart/form-data and reports
// what arrived. Files above 64 KiB spill to a temp file, removed after the response.
import { createHash } from 'node:crypto';
import type { Request, Response } from '../../lib/index.ts';
import { wrapMultipart, type UploadedFile } from '../../lib/middleware.ts';

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (body: string): Response => ({
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: `<!doctype html><meta charset="utf-8"><title>httpkit upload</title>
<style>body{font:16px system-ui;margin:2em auto;max-width:40em}</style>
<h1>Upload a file</h1>
<form method="post" enctype="multipart/form-data">
  <p><label>Title <input name="title"></label></p>
  <p><input type="file" name="file" required></p>
  <p><button>Upload</button></p>
</form>${body}<p><a href="/">back to the demo</a></p>`,
});

async function receive(req: Request): Promise<Response> {
  const parts = (req.multipartParams ?? {}) as Record<string, string | UploadedFile | (string | UploadedFile)[]>;
  const file = parts.file;
  if (file === undefined || typeof file === 'string' || Array.isArray(file)) {
    return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'expected one file in the "file" field\n' };
  }
  const sha256 = createHash('sha256').update(await file.bytes()).digest('hex');
  const title = typeof parts.title === 'string' ? parts.title : '';
  return page(`<h2>Received</h2><ul>
<li>title: ${escape(title)}</li>
<li>file: ${escape(file.filename)} (${escape(file.contentType)})</li>
<li>size: ${file.size} bytes${file.tempFile !== null ? ', spilled to a temp file' : ', held in memory'}</li>
<li>sha256: <code>${sha256}</code></li></ul>`);
}

/** The upload form's handler (mount it at a path of your choice). */
export const uploadHandler = wrapMultipart(
  (req: Request) => (req.requestMethod === 'post' ? receive(req) : page('')),
  { spillThreshold: 64 * 1024, maxFileSize: 32 * 1024 * 1024 },
);
