/**
 * Part `baselines` (only with --baselines yes): the seed's sequential loop (a new connection for
 * every change) and `xargs -P c curl`, against the same simulator at the same latency.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { r3, startSim } from './common.mjs';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newPassword = () => Array.from({ length: 22 }, () => ALNUM[randomInt(62)]).join('');
// Named as the simulator names its users.
const userName = (i, total) => `user${String(i).padStart(Math.max(5, String(total).length), '0')}`;

/** Appends to results.baselines. */
export async function benchBaselines(config, results) {
  const { accounts: N, latencyMs: LATENCY, levels: LEVELS, work } = config;
  const count = Math.min(N, 400);
  const sim = await startSim(['--users', String(N), '--resellers', '0', '--admins', '0', '--latency', String(LATENCY)]);
  try {
    const users = Array.from({ length: count }, (_, i) => userName(i + 1, N));
    const auth = 'Basic ' + Buffer.from(`${sim.adminUser}:${sim.adminPassword}`).toString('base64');
    const url = new URL(sim.url);
    const t0 = performance.now();
    for (const u of users) {
      const pw = newPassword();
      const body = `username=${u}&passwd=${pw}&passwd2=${pw}`;
      await new Promise((res, rej) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: '/CMD_API_USER_PASSWD',
            method: 'POST',
            agent: false,
            headers: {
              authorization: auth,
              connection: 'close',
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
            },
          },
          (r) => {
            r.resume();
            r.on('end', res);
          },
        );
        req.on('error', rej);
        req.end(body);
      });
    }
    const seedS = (performance.now() - t0) / 1000;
    results.baselines.push({
      tool: 'seed loop (sequential, new connection each)',
      concurrency: 1,
      accounts: count,
      wallS: r3(seedS),
      ratioToIdeal: r3((count * LATENCY) / 1000 / seedS),
    });
    if (spawnSync('sh', ['-c', 'command -v curl && command -v xargs'], { stdio: 'ignore' }).status === 0) {
      const netrc = join(work, 'netrc');
      writeFileSync(netrc, `machine ${url.hostname} login ${sim.adminUser} password ${sim.adminPassword}\n`, { mode: 0o600 });
      for (const c of LEVELS) {
        const n = Math.min(N, c * 100);
        const list = join(work, `xargs-${c}.txt`);
        writeFileSync(list, Array.from({ length: n }, (_, i) => `${userName(i + 1, N)} ${newPassword()}`).join('\n') + '\n', { mode: 0o600 });
        const script = `curl -s -o /dev/null --netrc-file ${netrc} -d "username=$0&passwd=$1&passwd2=$1" ${sim.url}/CMD_API_USER_PASSWD`;
        const t1 = performance.now();
        spawnSync('sh', ['-c', `xargs -P ${c} -L 1 sh -c '${script}' < ${list}`], { stdio: 'ignore' });
        const s = (performance.now() - t1) / 1000;
        results.baselines.push({ tool: 'xargs -P c curl', concurrency: c, accounts: n, wallS: r3(s), ratioToIdeal: r3((n * LATENCY) / c / 1000 / s) });
      }
    }
  } finally {
    await sim.stop();
  }
}
