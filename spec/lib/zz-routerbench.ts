import { routes, GET } from '/work/main/lib/router.ts';
import { makeRequest } from '/work/main/spec/lib/middleware-support.ts';
const N = 1000;
const list = [];
const regexes: [RegExp, Function][] = [];
const h0 = () => null;
for (let i = 0; i < N; i++) {
  list.push(GET(`/api/r${i}/items/:id`, h0));
  regexes.push([new RegExp(`^/api/r${i}/items/([^/]+)$`), h0]);
}
const router = routes(list);
const reqs = Array.from({ length: 1024 }, (_, k) => makeRequest({ uri: `/api/r${(k * 7919) % N}/items/${k}` }));
function bench(name: string, fn: (r: any) => void) {
  for (let i = 0; i < 200000; i++) fn(reqs[i & 1023]);
  const t = process.hrtime.bigint();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) fn(reqs[i & 1023]);
  const ns = Number(process.hrtime.bigint() - t) / n;
  console.log(`${name}: ${ns.toFixed(1)} ns/lookup`);
  return ns;
}
const trie = bench(`trie router, ${N} routes`, (r) => { r.params = undefined; router(r); });
const linear = bench(`linear regex scan, ${N} routes`, (r) => { for (const [re, f] of regexes) { const m = re.exec(r.uri); if (m) { r.params = { id: m[1] }; f(r); return; } } });
console.log(`ratio linear/trie: ${(linear / trie).toFixed(1)}x`);
