/**
 * Errors raised by the algorithm layer. They carry where the bad value is (which response,
 * which token position, which field) so that a CLI can turn them into one actionable line.
 */

export class AlgoInputError extends Error {
  constructor(
    message: string,
    readonly where: { readonly response?: number; readonly position?: number; readonly field?: string } = {},
  ) {
    super(message);
    this.name = 'AlgoInputError';
  }
}

/** Throws if any value is NaN or ±Inf, naming the field, the response and the position. */
export function assertFinite(values: ArrayLike<number>, field: string, response?: number): void {
  for (let t = 0; t < values.length; t++) {
    const v = values[t];
    if (!Number.isFinite(v)) {
      const at = response === undefined ? `position ${t}` : `response ${response}, position ${t}`;
      throw new AlgoInputError(`${field}: non-finite value ${v} at ${at}`, { response, position: t, field });
    }
  }
}

export function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, names: [string, string], response?: number): void {
  if (a.length !== b.length) {
    const at = response === undefined ? '' : ` (response ${response})`;
    throw new AlgoInputError(`${names[0]} has ${a.length} tokens but ${names[1]} has ${b.length}${at}`, {
      response,
      field: names[1],
    });
  }
}
