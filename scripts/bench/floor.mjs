#!/usr/bin/env node
/**
 * The floor for the throughput benchmark: the least a client can do against the same simulator on
 * the same machine. A bare undici + p-limit loop, in its own process, keeps c password changes in flight (no
 * journal, no report, no outcome rule) and prints one JSON line {wallMs, cpuMs}. da-rotate's ratio
 * to the ideal is read beside this one: the gap between them is the client's own cost; the gap
 * between this and 1.0 is the machine's and the simulator's.
 *
 *   node scripts/bench/floor.mjs URL_WITH_CREDENTIALS CONCURRENCY ACCOUNTS
 */
import pLimit from 'p-limit';
import { Pool } from 'undici';

const [url, c, n] = [new URL(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const auth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
const pool = new Pool(url.origin, { connections: c, pipelining: 1 });
const userName = (i) => `user${String(i).padStart(Math.max(5, String(n).length), '0')}`;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let failed = 0;
async function change(i) {
  const pw = `Floor${i}x${Math.random().toString(36).slice(2, 12)}`;
  const r = await pool.request({
    path: '/CMD_API_USER_PASSWD',
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=${userName(i + 1)}&passwd=${pw}&passwd2=${pw}`,
  });
  const text = await r.body.text();
  if (r.statusCode !== 200 || new URLSearchParams(text).get('error') !== '0') failed++;
}
const limit = pLimit(c);
await Promise.all(Array.from({ length: n }, (_, i) => limit(change, i)));
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await pool.close();
process.stdout.write(JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, failed }) + '\n');
