/**
 * The fleet manifest, output/<run id>/fleet.json: which servers a fleet run covers, where each
 * one's journal and report are, and how far each got. Rewritten whole on every change (a private
 * temp file created exclusively, fsync'd, renamed over), so a kill at any instant leaves the last
 * complete version; `resume --run` reads it to find the servers that did not finish.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { replaceFile } from '../files.js';
import { checkPrivateDir, PinnedDir } from '../directories.js';
import type { StatusCounts } from '../messages.js';
import { newRunId } from '../run-id.js';

export const MANIFEST_VERSION = 1;
export const RUN_ID = /^\d{8}T\d{6}Z-[a-z0-9]{6}$/;

export type FleetCommand = 'rotate' | 'plan' | 'resume' | 'verify';

/**
 * pending: not started; running: started (after a kill it stays so); ok: every account settled
 * (plan: listed; verify: no drift); partial: some failed or unknown; aborted, interrupted, usage,
 * internal: the run's exit code class.
 */
export type ServerStatus = 'pending' | 'running' | 'ok' | 'partial' | 'aborted' | 'interrupted' | 'usage' | 'internal';

export interface VerifyCounts {
  checked: number;
  matching: number;
  drift: number;
  errors: number;
}

export interface ManifestServer {
  name: string;
  url: string;
  user: string;
  dir: string;
  status: ServerStatus;
  exitCode?: number;
  report?: string;
  journal?: string;
  counts?: StatusCounts;
  verify?: VerifyCounts;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** How many times this server's run was started (first run plus resumes). */
  attempts: number;
}

export interface FleetManifest {
  v: number;
  runId: string;
  command: FleetCommand;
  inventory: string;
  createdAt: string;
  /** Settings a resume needs again (never a secret). */
  settings: { length: number; symbols: boolean; only: string[] | null; exclude: string[]; scope: string | null; include: string[] | null };
  /** For verify runs: the run whose reports were checked. */
  verifiedRun?: string;
  servers: ManifestServer[];
}

export { newRunId };

/**
 * Creates output/<run id>/ (0700) under a fresh id; mkdir is exclusive, so ids never collide. The
 * output directory must be one no other user can write (files.ts checkPrivateDir: created 0700 when
 * missing, never changed when it exists); the run directory is pinned so a swap is detected.
 */
export async function createRunDir(outputDir: string): Promise<{ runId: string; dir: string; pin: PinnedDir }> {
  await checkPrivateDir(outputDir, { create: true });
  for (let i = 0; ; i++) {
    const runId = newRunId();
    const dir = join(resolve(outputDir), runId);
    try {
      await fsp.mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 20) throw e;
      continue;
    }
    const pin = await PinnedDir.pin(dir);
    await fsp.chmod(dir, 0o700); // ours, just made: umask may have narrowed it
    await pin.check();
    return { runId, dir, pin };
  }
}

/** Writes a file whole or not at all: exclusive 0600 temp, every byte, fsync, rename over. */
/** The manifest and the summary are replaced whole, atomically (src/files.ts). */
export const writeFileAtomic = replaceFile;

/**
 * Serialises manifest writes: each change schedules one write of the latest state; a failed write
 * is kept and reported by flush(), and the caller stops the fleet.
 */
export class ManifestWriter {
  private chain: Promise<void> = Promise.resolve();
  private dirty = false;
  private failure: unknown;

  constructor(
    readonly path: string,
    readonly manifest: FleetManifest,
    private readonly onFailure: (e: unknown) => void,
    /** Checked around each write (replaceFile's stillOurs): the run directory is still the one created (PinnedDir.check). */
    private readonly guard: () => Promise<void> = () => Promise.resolve(),
  ) {}

  get failed(): unknown {
    return this.failure;
  }

  /** Schedules a write of the current state (coalesced with other pending changes). */
  save(): Promise<void> {
    if (this.dirty) return this.chain;
    this.dirty = true;
    this.chain = this.chain.then(async () => {
      this.dirty = false;
      if (this.failure) return;
      try {
        await writeFileAtomic(this.path, JSON.stringify(this.manifest, null, 2) + '\n', { stillOurs: this.guard });
      } catch (e) {
        this.failure = e;
        this.onFailure(e);
      }
    });
    return this.chain;
  }

  async flush(): Promise<void> {
    await this.chain;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the error latched by a failed write, rethrown as caught
    if (this.failure) throw this.failure;
  }
}

export function manifestPath(runDir: string): string {
  return join(runDir, 'fleet.json');
}

export function readManifest(outputDir: string, runId: string): { dir: string; manifest: FleetManifest } {
  if (!RUN_ID.test(runId))
    throw new UsageError(`--run: "${runId}" is not a fleet run id (like 20250101T120000Z-a1b2c3, the directory name under ${outputDir})`);
  const dir = join(resolve(outputDir), runId);
  let manifest: FleetManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as FleetManifest;
  } catch (e) {
    throw new UsageError(`--run ${runId}: cannot read ${manifestPath(dir)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (manifest.v !== MANIFEST_VERSION || manifest.runId !== runId || !Array.isArray(manifest.servers)) {
    throw new UsageError(`--run ${runId}: ${manifestPath(dir)} is not a fleet manifest of version ${MANIFEST_VERSION}`);
  }
  return { dir, manifest };
}
