// "did you mean …" for mistyped commands, actions and flags.

/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours count one each). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The closest of `candidates` to `given`, when it is close enough to be a typo (or `given` is a prefix of one). */
export function closest(given: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(given) && given.length >= 2 ? 0.5 : editDistance(given, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(given.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** ` — did you mean "x"?`, or nothing. */
export function didYouMean(given: string, candidates: Iterable<string>, prefix = ""): string {
  const match = closest(given, candidates);
  return match ? ` — did you mean "${prefix}${match}"?` : "";
}
