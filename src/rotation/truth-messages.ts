/** Messages of the cross-run rules (locks, supersession, salvage, leftovers): one line each, naming the way on. */
export const truthMsg = {
  previousDamaged: (server: string, journal: string, why: string) =>
    `the last run against ${server} left a journal that cannot be read whole (${why}); its secrets may be live. ` +
    `Read what it holds: da-rotate resume ${journal} --salvage; or start anew with --abandon-previous (nothing was changed)`,
  abandoningDamaged: (journal: string) => `--abandon-previous: leaving the damaged journal ${journal} behind; the new journal records it`,
  previousBusy: (journal: string, why: string) => `cannot mark ${journal} as superseded: ${why}`,
  cannotMark: (journal: string, why: string) => `could not mark ${journal} as superseded (${why}); the last-run record names the newer run`,
  removedLeftovers: (journal: string, report: string) => `removed ${journal} and ${report}: left by a run of this server that stopped before it sent anything`,
  removedUnsent: (report: string, journal: string) => `nothing was sent: removed ${report} and ${journal}`,
  interruptedNothingSent: (report: string, journal: string) => `interrupted before the first change: nothing was sent; removed ${report} and ${journal}`,
  superseded: (journal: string, later: string, what: string) =>
    `${journal} was superseded by a later run of its server (${later}): ${what}; its passwords are no longer the live ones`,
  salvaged: (journal: string, lines: string) => `${journal}: salvage read past ${lines}; every whole record was kept`,
  salvageNothing: (journal: string) => `${journal}: nothing to salvage, every line reads whole`,
  listingFailed: (what: string, n: number) => `${n} listing(s) failed (${what}): their credentials were not changed; rerun or resume to list them again`,
};
