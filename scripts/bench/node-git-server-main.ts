// node-git-server as the benchmark runs it: its own process, loopback only, an existing directory of bare repositories.
import http from 'node:http';
import { Git } from 'node-git-server';

const [root, port] = process.argv.slice(2);
if (!root || !port) {
  process.stderr.write('usage: node-git-server-main.ts <repos-dir> <port>\n');
  process.exit(2);
}

const repos = new Git(root, { autoCreate: false });
// What node-git-server's typings leave as any: the one call made on each.
type Acceptable = { accept(): void };
repos.on('push', (push: Acceptable) => push.accept());
repos.on('fetch', (fetch: Acceptable) => fetch.accept());
const server = http.createServer((req, res) => repos.handle(req, res));
server.listen(Number(port), '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
