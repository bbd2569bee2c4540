// Deny-by-default grants: a list of exact names, "*" for everything, or "prefix*".

export class AllowList {
  private readonly exact: Set<string>;
  private readonly prefixes: string[];
  private readonly all: boolean;
  readonly entries: readonly string[];

  constructor(entries: readonly string[] = []) {
    this.entries = entries;
    this.all = entries.includes('*');
    this.exact = new Set(entries.filter((e) => !e.endsWith('*')));
    this.prefixes = entries.filter((e) => e.endsWith('*') && e !== '*').map((e) => e.slice(0, -1));
  }

  allows(name: string): boolean {
    return this.all || this.exact.has(name) || this.prefixes.some((p) => name.startsWith(p));
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }
}
