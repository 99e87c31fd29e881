// Paging for the small registries (engineers, operators, appliances) read whole from Redis: sorted by
// a name, the cursor is the last name served, so a page stays right when entries come and go.

export function pageByName<T extends { name: string } | { serial: string }>(
  all: readonly T[],
  q: { limit: number; cursor?: string | undefined },
): { items: T[]; next: string | null } {
  const nameOf = (t: T) => ('name' in t ? t.name : t.serial);
  const sorted = [...all].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  const rest = q.cursor === undefined ? sorted : sorted.filter((t) => nameOf(t) > q.cursor!);
  const items = rest.slice(0, q.limit);
  return { items, next: rest.length > q.limit ? nameOf(items[items.length - 1]!) : null };
}
