// The engineer directory in memory, for fast unit tests (not for production). Records are kept as
// the JSON the Redis hash holds and parsed on read; a withdrawal is audited and announced to
// in-process listeners, as the Redis directory publishes it to relays.
import type { AuditLog } from '../audit.store.js';
import { additionAudit, engineerSchema, engineerWithKey, withdrawalAudit, type Engineer, type EngineerDirectory, type EngineerKey, type EngineerRevocation } from '../engineer.store.js';

export class MemoryEngineerDirectory implements EngineerDirectory {
  private readonly records = new Map<string, string>();
  private readonly listeners = new Set<(rev: EngineerRevocation) => void>();

  constructor(private readonly audit: AuditLog) {}

  /** Calls `listener` with every withdrawal; returns the unsubscribe. */
  subscribe(listener: (rev: EngineerRevocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async addKey(name: string, key: EngineerKey, actor: string, now: number): Promise<Engineer> {
    const engineer = engineerWithKey(await this.get(name), name, key, now);
    this.records.set(name, JSON.stringify(engineer));
    const { type, fields } = additionAudit(name, key, actor);
    await this.audit.append(type, fields, now);
    return engineer;
  }

  async get(name: string): Promise<Engineer | null> {
    const raw = this.records.get(name);
    const parsed = raw ? engineerSchema.safeParse(JSON.parse(raw)) : null;
    return parsed?.success ? parsed.data : null;
  }

  async remove(name: string, actor: string, now: number): Promise<boolean> {
    if (!(await this.get(name))) return false;
    this.records.delete(name);
    await this.withdrawn({ engineer: name }, actor, now);
    return true;
  }

  async removeKey(name: string, fingerprint: string, actor: string, now: number): Promise<boolean> {
    const engineer = await this.get(name);
    const keys = engineer?.keys.filter((k) => k.fingerprint !== fingerprint);
    if (!engineer || !keys || keys.length === engineer.keys.length) return false;
    if (keys.length === 0) this.records.delete(name);
    else this.records.set(name, JSON.stringify({ ...engineer, keys }));
    await this.withdrawn({ engineer: name, fingerprints: [fingerprint] }, actor, now);
    return true;
  }

  async list(): Promise<Engineer[]> {
    const all = await Promise.all([...this.records.keys()].map((name) => this.get(name)));
    return all.filter((e): e is Engineer => e !== null).sort((a, b) => a.name.localeCompare(b.name));
  }

  private async withdrawn(rev: EngineerRevocation, actor: string, now: number): Promise<void> {
    const { type, fields } = withdrawalAudit(rev, actor);
    await this.audit.append(type, fields, now);
    for (const listener of this.listeners) listener(rev);
  }
}
