// Preloaded with `node --require` into a gateway by the replica e2e suite, so that a DNS name
// can stand for several loopback replicas without touching /etc/hosts: names in the JSON file
// at E2E_FAKE_DNS ({"name": ["127.0.0.2", ...]}) resolve to the addresses listed there, read
// again on every lookup, as a headless Service's DNS answers with the ready pods of the moment.
// Any other name goes to the system resolver. Only dns.promises.lookup (what the gateway uses
// to resolve data-plane names) is wrapped.
'use strict';
const dns = require('node:dns');
const { readFileSync } = require('node:fs');

const file = process.env.E2E_FAKE_DNS;
const system = dns.promises.lookup;

dns.promises.lookup = async function lookup(hostname, options) {
  let table = {};
  try {
    table = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* no file yet: every name goes to the system resolver */
  }
  const addresses = table[hostname];
  if (!addresses) return system.call(this, hostname, options);
  if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  const all = addresses.map((address) => ({ address, family: 4 }));
  return typeof options === 'object' && options !== null && options.all ? all : all[0];
};
