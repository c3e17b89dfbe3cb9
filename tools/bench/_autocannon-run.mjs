#!/usr/bin/env node
// One autocannon run in a process of its own, so the report can give the load generator's CPU
// and memory apart from everything else (_load.mjs httpLoad starts it). Prints one JSON line.
// Latencies come from autocannon's 'response' events, in fractional milliseconds: its own
// histogram keeps whole milliseconds, too coarse for a p50 of one or two.
import { createRequire } from 'node:module';

// Nothing from _support.mjs: it loads grpc-js, which would count as this load generator's memory.
const autocannon = createRequire(import.meta.url)('autocannon');
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const { url, headers, bodies, connections, seconds } = JSON.parse(process.argv[2]);

let next = 0;
const latencies = [];
const cpu0 = process.cpuUsage();
const instance = autocannon({
  url,
  method: 'POST',
  headers,
  connections,
  duration: seconds,
  // Each connection keeps one body: connection k sends bodies[k % bodies.length].
  setupClient: (client) => client.setBody(bodies[next++ % bodies.length]),
});
instance.on('response', (_client, statusCode, _bytes, ms) => {
  if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
});
instance.on('done', (result) => {
  const cpu = process.cpuUsage(cpu0);
  const statusCodes = result.statusCodeStats;
  process.stdout.write(
    `${JSON.stringify({
      requests: latencies.length,
      rps: latencies.length / result.duration,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssMb: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
});
