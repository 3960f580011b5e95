// A tiny Hono-style Fetch-API app for the fetch adapter tests: `app.get(path, fn)`
// with `:params`, a context object with text()/json(), and `app.fetch(request)`.
type Ctx = {
  req: globalThis.Request;
  params: Record<string, string>;
  text(body: string, status?: number): globalThis.Response;
  json(value: unknown, status?: number): globalThis.Response;
};
type Fn = (c: Ctx) => globalThis.Response | Promise<globalThis.Response>;

export function miniApp() {
  const table: { method: string; parts: string[]; fn: Fn }[] = [];
  const add = (method: string) => (path: string, fn: Fn) => {
    table.push({ method, parts: path.split('/').slice(1), fn });
    return app;
  };
  const app = {
    get: add('GET'),
    post: add('POST'),
    fetch: async (req: globalThis.Request): Promise<globalThis.Response> => {
      const parts = new URL(req.url).pathname.split('/').slice(1);
      for (const r of table) {
        if (r.method !== req.method || r.parts.length !== parts.length) continue;
        const params: Record<string, string> = {};
        if (r.parts.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i]!)), true) : p === parts[i]))) {
          return r.fn({
            req,
            params,
            text: (body, status = 200) => new globalThis.Response(body, { status }),
            json: (value, status = 200) => globalThis.Response.json(value, { status }),
          });
        }
      }
      return new globalThis.Response('not found', { status: 404 });
    },
  };
  app.get('/hello/:name', (c) => c.text(`${new URL(c.req.url).searchParams.get('greeting') ?? 'Hello'}, ${c.params.name}!`));
  app.post('/echo', async (c) => {
    const body = (await c.req.json()) as { n: number };
    return c.json({ n: body.n + 1, trace: c.req.headers.get('x-trace'), url: c.req.url }, 201);
  });
  app.get('/cookies', () => {
    const headers = new Headers();
    headers.append('set-cookie', 'a=1; Path=/');
    headers.append('set-cookie', 'b=2; HttpOnly');
    return new globalThis.Response(null, { status: 204, headers });
  });
  app.get('/stream', () => {
    const parts = ['one,', 'two,', 'three'];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    return new globalThis.Response(stream, { headers: { 'content-type': 'text/plain' } });
  });
  app.get('/big', () => new globalThis.Response('x'.repeat(1 << 20)));
  return app;
}
