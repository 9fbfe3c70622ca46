#!/usr/bin/env node
/**
 * A second DirectAdmin stand-in for the throughput benchmark, written as plainly as a stand-in can
 * be and sharing no code with src/simulator: node:http, Basic auth, the three legacy commands a
 * `rotate --scope users` sends (CMD_API_LOGIN_TEST, CMD_API_SHOW_USERS, CMD_API_USER_PASSWD), and
 * one setTimeout(L) per request. Figures against the bundled simulator alone would prove only that
 * the client and a server written beside it agree; this one shows what a naive server does to them
 * (its timers fire late, so its "20 ms" answers take longer: the benchmark prints its mean).
 *
 *   node scripts/bench/standin.mjs USERS LATENCY_MS
 * prints one JSON line {url, password, port}; then on stdin: "stats" -> {answered, answerMsTotal,
 * changes}, "reset" -> zeroes them; exits when stdin closes.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

const users = Number(process.argv[2] ?? 1000);
const latency = Number(process.argv[3] ?? 20);
const password = randomBytes(12).toString('base64url');
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
// Named as the simulator and scripts/bench/floor.mjs name them.
const names = Array.from({ length: users }, (_, i) => `user${String(i + 1).padStart(Math.max(5, String(users).length), '0')}`);
const known = new Set(names);
const listing = names.map((n) => `list%5B%5D=${n}`).join('&');
let stats = { answered: 0, answerMsTotal: 0, changes: 0 };

function answer(command, form) {
  if (command === 'CMD_API_LOGIN_TEST') return 'error=0&text=Login%20OK&details=';
  if (command === 'CMD_API_SHOW_USERS') return listing;
  if (command === 'CMD_API_USER_PASSWD') {
    const pw = form.get('passwd');
    if (!known.has(form.get('username') ?? '') || !pw || pw !== form.get('passwd2')) return 'error=1&text=Cannot%20change%20password&details=bad%20request';
    stats.changes++;
    return 'error=0&text=Password%20Changed&details=';
  }
  return undefined;
}

const server = createServer((req, res) => {
  const arrived = performance.now();
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.headers.authorization !== auth) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const text = answer(url.pathname.slice(1), new URLSearchParams(body));
    setTimeout(() => {
      if (text === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
      stats.answered++;
      stats.answerMsTotal += performance.now() - arrived;
    }, latency);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, password, port }) + '\n');
});
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(JSON.stringify(stats) + '\n');
    if (line.trim() === 'reset') stats = { answered: 0, answerMsTotal: 0, changes: 0 };
  })
  .on('close', () => {
    server.closeAllConnections();
    server.close();
  });
