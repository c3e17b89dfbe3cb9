import { ClientError } from './client.mjs';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** ~/.config/servable/config.json, or under XDG_CONFIG_HOME / SERVABLE_CONFIG_DIR. */
export function configPath(env = process.env) {
  const dir = env.SERVABLE_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'servable');
  return join(dir, 'config.json');
}

/** The stored login, with SERVABLE_URL / SERVABLE_KEY taking precedence (CI sets those). */
export function loadConfig(env = process.env) {
  const path = configPath(env);
  let stored = {};
  try {
    if (existsSync(path)) stored = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ClientError(`${path} is not JSON (${err.message}): delete it and run \`servable login\` again`);
  }
  return { url: env.SERVABLE_URL ?? stored.url ?? 'http://127.0.0.1:8501', key: env.SERVABLE_KEY ?? stored.key };
}

export function saveConfig(config, env = process.env) {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  // An existing file keeps its mode on write: the key must not be readable by others.
  chmodSync(path, 0o600);
  return path;
}

export function removeConfig(env = process.env) {
  rmSync(configPath(env), { force: true });
}
