/** Median, min and max of repeated trials, with the trials themselves. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  trials: number[];
}

/** Summarises trials; the median of an even count is the mean of the middle two. */
export function spread(trials: number[]): Spread {
  const sorted = [...trials].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, trials };
}
