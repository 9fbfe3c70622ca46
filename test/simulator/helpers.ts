/** Shared helpers of the simulator's tests: raw HTTP calls with Basic auth, a simulator per test. */
import type { Simulator } from '../../src/simulator/index.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

export interface CallOptions {
  user?: string;
  secret?: string;
  method?: string;
  /** A form body (POST application/x-www-form-urlencoded unless `contentType` says otherwise). */
  body?: string;
  contentType?: string;
}

export async function call(sim: Simulator, path: string, o: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.user !== undefined || o.secret !== undefined) {
    headers.authorization = 'Basic ' + Buffer.from(`${o.user ?? sim.adminUser}:${o.secret ?? sim.adminPassword}`).toString('base64');
  }
  if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/x-www-form-urlencoded';
  const res = await fetch(sim.url + path, { method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'), headers, body: o.body, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

export const admin = (sim: Simulator): CallOptions => ({ user: sim.adminUser, secret: sim.adminPassword });
/** Login-as `admin|user` with the admin's password. */
export const as = (sim: Simulator, user: string): CallOptions => ({ user: `${sim.adminUser}|${user}`, secret: sim.adminPassword });
export const own = (sim: Simulator, user: string): CallOptions => ({ user, secret: sim.password(user)! });

/** The e2e harness's withSim (test/e2e/simulator-fixtures.ts): a simulator, and an output directory the simulator tests ignore. */
export { withSim } from '../e2e/simulator-fixtures.js';

/** The url-encoded answer as a map (DirectAdmin percent-encoding undone). */
export function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}
