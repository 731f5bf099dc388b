/**
 * A registry maps a config string to an implementation (verl's `register_adv_est` idea):
 * adding an estimator, a reshaper or a loss is adding one entry. Lookups of unknown names fail
 * with the list of known ones.
 */

export class Registry<T> {
  private readonly entries = new Map<string, T>();

  constructor(readonly kind: string) {}

  register(name: string, value: T): this {
    if (this.entries.has(name)) throw new Error(`${this.kind} "${name}" is already registered`);
    this.entries.set(name, value);
    return this;
  }

  get(name: string): T {
    const value = this.entries.get(name);
    if (value === undefined) {
      throw new Error(`unknown ${this.kind} "${name}" (known: ${this.names().join(', ')})`);
    }
    return value;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }
}
