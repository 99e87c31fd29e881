// Load for the webhook → key mail benchmark: distinct tickets (own ticket id, serial and requester
// address each) sent as signed generic webhooks over keep-alive HTTP on an open-loop schedule, and
// the key mail of each ticket matched by its recipient as the SMTP server accepts it.
import { Agent, request } from 'node:http';
import { signGeneric } from '../../ticketing/generic-signature.js';
import type { ArrivedMail, PipelineStack } from './pipeline-server.js';
import { WEBHOOK_SECRET } from './pipeline-server.js';
import { percentile } from './stats.js';

interface TicketRecord {
  /** performance.now() when the request was written, when 202 came back, when the key mail arrived. */
  sentAt: number;
  acceptedAt?: number;
  mailAt?: number;
  status?: number;
}

export interface PhaseFigures {
  offered: number;
  /** Offered rate, tickets/s (Infinity: as fast as `maxInFlight` requests allow). */
  offeredRate: number;
  accepted: number;
  refused: number;
  mailed: number;
  /** Sending the first request → the last 202, s. */
  sendSeconds: number;
  /** 202s per second over the sending. */
  acceptRate: number;
  /** Key mails per second, first request → last key mail. */
  mailRate: number;
  /** Key mails per second between the 10th and the 90th percentile of arrivals (ramp excluded). */
  mailRateMid: number;
  /** 202 received → key mail accepted by the SMTP server, ms. */
  acceptedToMailP50: number;
  acceptedToMailP99: number;
  acceptedToMailMax: number;
  /** Request written → key mail accepted, ms. */
  sentToMailP50: number;
  sentToMailP99: number;
  /** Request written → 202, ms. */
  httpP50: number;
  httpP99: number;
  serverCpuSeconds: number;
  redisCpuSeconds: number;
  /** This process: load generator, SMTP server and comment sink. */
  benchCpuSeconds: number;
  errors: string[];
}

/** The generic help desk's webhook body (DESIGN.md "The generic help-desk webhook"). */
export function ticketCreatedBody(tag: string, i: number): string {
  return JSON.stringify({
    id: `evt-${tag}-${i}`,
    type: 'ticket.created',
    ticket: {
      id: `${tag}-${i}`,
      subject: 'Inventory page is blank',
      description: 'Since the upgrade the inventory page shows nothing.',
      status: 'open',
      requester: { email: `${tag}-${i}@customer.example`, name: 'IT Ops' },
      tags: ['tether'],
      appliance: { serial: `B${tag}-${i}`.toUpperCase(), product: i % 2 ? 'sda' : 'sma', version: i % 2 ? '6.0' : '10.1' },
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TicketLoad {
  private readonly agent: Agent;
  private readonly records = new Map<number, TicketRecord>();
  private readonly url: URL;
  private readonly errors: string[] = [];
  private next = 0;

  constructor(
    private readonly stack: PipelineStack,
    private readonly tag: string,
    maxSockets: number,
  ) {
    if (!stack.apiUrl) throw new Error('the pipeline stack runs no API');
    this.url = new URL('/v1/webhooks/generic', stack.apiUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
    const re = new RegExp(`^${tag}-(\\d+)@customer\\.example$`);
    stack.onMail((m: ArrivedMail) => {
      if (!m.subject.startsWith('Tether key')) return;
      for (const to of m.to) {
        const n = re.exec(to)?.[1];
        const r = n === undefined ? undefined : this.records.get(Number(n));
        if (r && r.mailAt === undefined) r.mailAt = m.at;
      }
    });
  }

  private post(i: number): Promise<void> {
    const body = ticketCreatedBody(this.tag, i);
    const rec: TicketRecord = { sentAt: performance.now() };
    this.records.set(i, rec);
    return new Promise((resolveReq) => {
      const req = request(
        this.url,
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...signGeneric(WEBHOOK_SECRET, body, Date.now()) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            rec.status = res.statusCode;
            rec.acceptedAt = performance.now();
            if (res.statusCode !== 202 && this.errors.length < 5) this.errors.push(`ticket ${i}: HTTP ${res.statusCode}`);
            resolveReq();
          });
        },
      );
      req.on('error', (err) => {
        rec.status = 0;
        if (this.errors.length < 5) this.errors.push(`ticket ${i}: ${err.message}`);
        resolveReq();
      });
      req.end(body);
    });
  }

  /**
   * Sends `count` new tickets, ticket k at start + k/rate (open loop: a slow answer does not delay
   * the next request, except that at most `maxInFlight` are outstanding). Returns their indexes.
   */
  async offer(count: number, ratePerS: number, maxInFlight: number): Promise<number[]> {
    const ids: number[] = [];
    const pending = new Set<Promise<void>>();
    const t0 = performance.now();
    for (let k = 0; k < count; k++) {
      if (Number.isFinite(ratePerS)) {
        const wait = t0 + (k * 1000) / ratePerS - performance.now();
        if (wait >= 1) await sleep(wait);
      }
      while (pending.size >= maxInFlight) await Promise.race(pending);
      const i = this.next++;
      ids.push(i);
      const p = this.post(i).finally(() => pending.delete(p));
      pending.add(p);
    }
    await Promise.all(pending);
    return ids;
  }

  /** Waits until every accepted ticket of `ids` has its key mail, or `timeoutMs` passed. */
  async awaitMails(ids: readonly number[], timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const missing = ids.filter((i) => {
        const r = this.records.get(i);
        return r?.status === 202 && r.mailAt === undefined;
      }).length;
      if (missing === 0) return;
      if (performance.now() > deadline) {
        this.errors.push(`${missing} key mails did not arrive within ${Math.round(timeoutMs / 1000)} s`);
        return;
      }
      await sleep(50);
    }
  }

  figures(ids: readonly number[], offeredRate: number, cpu: { server: number; redis: number; bench: number }): PhaseFigures {
    const recs = ids.map((i) => this.records.get(i)).filter((r): r is TicketRecord => r !== undefined);
    const accepted = recs.filter((r) => r.status === 202);
    const mailed = accepted.filter((r) => r.mailAt !== undefined);
    const firstSent = Math.min(...recs.map((r) => r.sentAt));
    const lastAccepted = Math.max(...accepted.map((r) => r.acceptedAt ?? 0));
    const arrivals = mailed.map((r) => r.mailAt as number).sort((a, b) => a - b);
    const at = (p: number) => arrivals[Math.min(arrivals.length - 1, Math.floor(p * (arrivals.length - 1)))] as number;
    const lastMail = arrivals[arrivals.length - 1] ?? Number.NaN;
    const mid = arrivals.length >= 10 ? (0.8 * (arrivals.length - 1)) / ((at(0.9) - at(0.1)) / 1000) : Number.NaN;
    const a2m = mailed.map((r) => (r.mailAt as number) - (r.acceptedAt as number));
    const s2m = mailed.map((r) => (r.mailAt as number) - r.sentAt);
    const http = accepted.map((r) => (r.acceptedAt as number) - r.sentAt);
    return {
      offered: recs.length,
      offeredRate,
      accepted: accepted.length,
      refused: recs.length - accepted.length,
      mailed: mailed.length,
      sendSeconds: (lastAccepted - firstSent) / 1000,
      acceptRate: accepted.length / ((lastAccepted - firstSent) / 1000),
      mailRate: mailed.length / ((lastMail - firstSent) / 1000),
      mailRateMid: mid,
      acceptedToMailP50: percentile(a2m, 50),
      acceptedToMailP99: percentile(a2m, 99),
      acceptedToMailMax: percentile(a2m, 100),
      sentToMailP50: percentile(s2m, 50),
      sentToMailP99: percentile(s2m, 99),
      httpP50: percentile(http, 50),
      httpP99: percentile(http, 99),
      serverCpuSeconds: cpu.server,
      redisCpuSeconds: cpu.redis,
      benchCpuSeconds: cpu.bench,
      errors: [...this.errors],
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
