/**
 * Seeds for tests that draw random inputs: printed in the test's title, replayed from the environment.
 * - DA_ROTATE_SEED: randomized kill points and other hand-rolled random choices (random seed by default).
 * - FC_SEED: fast-check properties (a fixed seed by default, so CI is deterministic; set one to explore).
 */

/** DA_ROTATE_SEED when set, else a fresh random seed: put it in the test's title so a failure names it. */
export function testSeed(): number {
  return seedFrom('DA_ROTATE_SEED') ?? (Math.random() * 2 ** 32) >>> 0;
}

/** FC_SEED when set, else `fallback`: the seed a fast-check property runs with. */
export function fcSeed(fallback: number): number {
  return seedFrom('FC_SEED') ?? fallback;
}

function seedFrom(variable: string): number | undefined {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`${variable} must be an integer, got ${JSON.stringify(raw)}`);
  return n >>> 0;
}

/** A small deterministic generator (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): { next(): number; int(min: number, max: number): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  /** An integer from min to max, both included. */
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return { next, int };
}
