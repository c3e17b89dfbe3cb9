import type { ChildProcess } from 'node:child_process';

/** The repository root. */
export declare const ROOT: string;

export declare function appMain(app: string, root?: string): string;

export declare function buildApps(projects: string[], options?: { root?: string }): void;

export declare function renderLogLine(line: string): string;

export declare function logPrefix(name: string, color?: number): string;

/**
 * Where a service's stdout and stderr go: inherited, stderr only (stdout dropped), appended
 * to a file, or line by line (pino JSON rendered as text unless `render` says otherwise).
 */
export type ServiceOutput = 'inherit' | 'stderr' | { file: string } | { line: (text: string) => void; render?: (line: string) => string };

export interface ServiceOptions {
  /** The name in logs and errors: the app, or gateway-2, inference@127.0.0.2... for replicas. */
  name: string;
  /** Runs dist/apps/<app>/main.js... */
  app?: string;
  /** ...or this script. */
  script?: string;
  root?: string;
  /** Node flags before the script (--enable-source-maps, --cpu-prof...). */
  nodeArgs?: string[];
  /** Over process.env. */
  env?: Record<string, string | undefined>;
  /** The URL that answers 200 once the service is ready (/readyz). */
  readyUrl?: string;
  /** Its own process group: signals reach all it spawned (e2e). */
  detached?: boolean;
  /** Default 'inherit'. */
  output?: ServiceOutput;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export declare class Service {
  constructor(options: ServiceOptions);
  readonly options: ServiceOptions;
  readonly name: string;
  readonly child: ChildProcess | undefined;
  readonly pid: number | undefined;
  readonly running: boolean;
  start(timeoutMs?: number): Promise<void>;
  spawn(): void;
  waitReady(timeoutMs?: number): Promise<void>;
  signal(signal: NodeJS.Signals): void;
  exited(): Promise<Exit | undefined>;
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<Exit | undefined>;
  kill(): Promise<Exit | undefined>;
}
