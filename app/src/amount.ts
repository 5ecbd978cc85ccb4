// Token amounts: what a person types ("1.5" tokens) and base units (bigint), in the mint's
// decimals.

/** Base units from a decimal amount in tokens ("1.5"); null when it is not one (a sign, an
 * exponent, more decimals than the mint has). */
export function parseAmount(text: string, decimals: number): bigint | null {
  const m = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > decimals) return null;
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}

/** Tokens from base units: "1.5" (no trailing zeros). */
export function formatAmount(units: bigint, decimals: number): string {
  const neg = units < 0n;
  const u = neg ? -units : units;
  const scale = 10n ** BigInt(decimals);
  const frac = (u % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${u / scale}${frac ? `.${frac}` : ''}`;
}
