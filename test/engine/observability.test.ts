import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { WireMetrics } from '../../src/observability/metrics.js';

describe('logger', () => {
  it('redacts password, token and secret keys at any of the first levels', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    logger.info({ password: 'p1', config: { token: 't1', nested: { secret: 's1', user: 'ann' } } }, 'hello');
    logger.debug('not at info');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ msg: 'hello', password: '[redacted]', config: { token: '[redacted]', nested: { secret: '[redacted]', user: 'ann' } } });
    expect(lines[0]).not.toMatch(/p1|t1|s1/);
  });
});

describe('metrics', () => {
  it('shares one registry between pipelines and renders every counter per component', async () => {
    const metrics = new WireMetrics();
    const a = metrics.component({ pipeline: 'a', component: 'sink', type: 'file' });
    const b = metrics.component({ pipeline: 'b', component: 'sink', type: 'file' });
    a.sent(10);
    a.sent(5);
    b.dropped(2);
    b.errors(0);
    metrics.latencyOf('a')(0.02);
    const text = await metrics.render();
    expect(text).toContain('wire_component_sent_records_total{pipeline="a",component="sink",type="file"} 15');
    expect(text).toContain('wire_component_dropped_records_total{pipeline="b",component="sink",type="file"} 2');
    expect(text).toContain('wire_pipeline_latency_seconds_bucket{le="0.025",pipeline="a"} 1');
    expect(metrics.contentType).toContain('text/plain');
  });
});
