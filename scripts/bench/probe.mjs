// Loaded with `node --import` into a benchmarked process: records each HTTP request's time to
// response headers (undici's diagnostics channels) and, at exit, the process's CPU time and peak
// memory, into the file named by BENCH_PROBE_FILE. Costs a map insert per request.
import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const started = new WeakMap();
const latencies = [];
dc.subscribe('undici:request:create', ({ request }) => started.set(request, performance.now()));
dc.subscribe('undici:request:headers', ({ request }) => {
  const t = started.get(request);
  if (t !== undefined) latencies.push(performance.now() - t);
});
process.on('exit', () => {
  const file = process.env.BENCH_PROBE_FILE;
  if (!file) return;
  const cpu = process.cpuUsage();
  writeFileSync(
    file,
    JSON.stringify({
      cpuMs: (cpu.user + cpu.system) / 1000,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      maxRssKb: process.resourceUsage().maxRSS,
      latencies,
    }),
  );
});
