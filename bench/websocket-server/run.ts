// WebSocket through the whole server: runServer + asChannel echo vs ws, with the load
// driver of bench/websocket for both. The same bench as `npm run bench -- websocket`
// with --via=server, at depth 1 and with longer runs by default.
// Usage: npm run bench -- websocket-server [--seconds=5] [--conns=50] [--idle=10000] [--rounds=2] [--depths=1]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const given = process.argv.slice(2);
const defaults = ['--seconds=5', '--rounds=2', '--depths=1'].filter((d) => !given.some((g) => g.startsWith(d.split('=')[0]! + '=')));
const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'websocket', 'run.ts');
const r = spawnSync(process.execPath, [...process.execArgv, script, '--via=server', ...defaults, ...given], { stdio: 'inherit' });
process.exit(r.status ?? 1);
