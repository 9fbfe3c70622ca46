/** The self-signed certificate of `tls: true`, from the `selfsigned` dev dependency. */
import net from 'node:net';

/** A set-up problem the operator fixes (one line, no stack trace). */
export class SimulatorSetupError extends Error {
  override name = 'SimulatorSetupError';
}

export const SELFSIGNED_MISSING =
  'the simulator\'s --tls needs the package "selfsigned", a development dependency: run `npm install` in a clone of da-rotate (dev dependencies included), or `npm install selfsigned` next to this install';

type Generate = (attrs: Array<{ name: string; value: string }>, options: Record<string, unknown>) => Promise<{ private: string; cert: string }>;

/** Loads `selfsigned`; its absence becomes a SimulatorSetupError. `load` is replaceable for tests. */
export async function loadGenerator(load: () => Promise<unknown> = () => import('selfsigned')): Promise<Generate> {
  let mod: unknown;
  try {
    mod = await load();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new SimulatorSetupError(SELFSIGNED_MISSING);
    throw e;
  }
  const m = mod as { generate?: Generate; default?: { generate?: Generate } };
  const generate = m.generate ?? m.default?.generate;
  if (!generate) throw new SimulatorSetupError(SELFSIGNED_MISSING);
  return generate;
}

export async function makeCertificate(altNames: string[], load?: () => Promise<unknown>): Promise<{ key: string; cert: string }> {
  const generate = await loadGenerator(load);
  const cn = altNames.find((n) => net.isIP(n) === 0) ?? altNames[0] ?? 'localhost';
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86400_000),
    notAfterDate: new Date(Date.now() + 365 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNames.map((n) => (net.isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
