// The shipped Grafana dashboard and docs/metrics.md cover every tether_* metric the registry
// exports, and the registry is per process: two registries never share a series.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../shared/metrics.js';
import { parseExposition, valueOf } from './prom-text.js';

const tetherMetricNames = async () => (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('tether_'));

describe('metrics documentation', () => {
  it('docs/grafana-dashboard.json is valid JSON with a panel query for every tether_* metric', async () => {
    const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    const names = (await tetherMetricNames()).filter((n) => n !== 'tether_role');
    expect(names.length).toBeGreaterThanOrEqual(11);
    for (const name of names) expect(exprs, name).toContain(name);
  });

  it('docs/metrics.md names every tether_* metric', async () => {
    const doc = readFileSync('docs/metrics.md', 'utf8');
    for (const name of await tetherMetricNames()) expect(doc, name).toContain(`\`${name}\``);
  });

  it('each createMetrics() is its own registry: a count in one does not show in another', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.webhookDelivery('generic', 'accepted');
    a.bytes.toAppliance += 10;
    const labels = { system: 'generic', result: 'accepted' };
    expect(valueOf(parseExposition((await a.scrape()).body), 'tether_webhook_deliveries_total', labels)).toBe(1);
    expect(valueOf(parseExposition((await a.scrape()).body), 'tether_relay_bytes_total', { direction: 'to_appliance' })).toBe(10);
    expect(valueOf(parseExposition((await b.scrape()).body), 'tether_webhook_deliveries_total', labels)).toBe(0);
    expect(valueOf(parseExposition((await b.scrape()).body), 'tether_relay_bytes_total', { direction: 'to_appliance' })).toBe(0);
  });
});
