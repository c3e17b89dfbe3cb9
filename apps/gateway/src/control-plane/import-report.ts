import type { ImportReport } from '@servable/persistence';

export interface ImportLogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
}

/**
 * What the start-up import of the model repository says in the log. Without it a version whose
 * servable.json or tokenizer is broken, or whose files were changed after it was registered, was
 * left out (or left as registered) with no word, and a mistyped MODEL_REPOSITORY imported nothing
 * just as quietly.
 */
export function importLogLines(root: string, rootExists: boolean, report: ImportReport): ImportLogLine[] {
  if (!rootExists) return [{ level: 'warn', msg: `MODEL_REPOSITORY ${root} does not exist: nothing imported (an upload creates it)` }];
  const lines: ImportLogLine[] = [
    {
      level: 'info',
      msg: `model repository ${root}: ${report.added.length} version(s) registered${report.added.length ? ` (${report.added.join(', ')})` : ''}, ${report.unchanged.length} already registered`,
    },
  ];
  for (const id of report.changedOnDisk) {
    lines.push({ level: 'warn', msg: `${id}: its files changed on disk after it was registered; the registered checksum stands, and serving it may fail until it is uploaded as a new version` });
  }
  for (const { version, error } of report.failed) lines.push({ level: 'error', msg: `${version} not registered: ${error}` });
  return lines;
}
