/**
 * The private state and lock directories test/setup.ts gave this test file's process, for a run made
 * in process with an env of its own: without them the run would use the operator's ~/.local/state and
 * /run/lock, shared with every other test file (and a simulator's port reused there finds the last
 * run of another test's server, and refuses to start).
 */
export function privateStateEnv(): { XDG_STATE_HOME: string; DA_ROTATE_LOCK_DIR: string } {
  const { XDG_STATE_HOME, DA_ROTATE_LOCK_DIR } = process.env;
  if (!XDG_STATE_HOME || !DA_ROTATE_LOCK_DIR) throw new Error('run the tests with --import ./test/setup.ts (npm test does)');
  return { XDG_STATE_HOME, DA_ROTATE_LOCK_DIR };
}
