import type { CatalogVersionView } from '../../../api/types';
import { formatMs, shortHash, versionName } from '../../../ui/format';
import type { VersionRun } from '../api/playground-api';
import { TokenChips } from './TokenChips';

/** The length of a score of 1.0. */
const SCORE_BAR_REM = 8;

export interface VersionResultProps {
  text: string;
  index: number;
  version: CatalogVersionView;
  run: VersionRun | undefined;
  pending: boolean;
  /** The version's run failed; its error is shown once above the texts, not in every card. */
  failed: boolean;
}

/** One version's answer for one text: its label and scores, latency, tokenizer and tokens. */
export function VersionResult({ text, index, version, run, pending, failed }: VersionResultProps) {
  const prediction = run?.predictions[index];
  const tokenized = run?.tokenized[index];
  return (
    <article className="card version-result" data-testid={`result-${index}-v${version.version}`} aria-label={`${versionName(version.version)} on text ${index + 1}`}>
      <header className="version-result-head">
        <h3>{versionName(version.version)}</h3>
        <VersionTags version={version} />
      </header>
      {pending && <p className="muted loading">Asking {versionName(version.version)}…</p>}
      {failed && !pending && <p className="muted small">No answer: see the error above.</p>}
      {prediction && run && (
        <>
          <p className="prediction">
            <strong>{prediction.label}</strong>
          </p>
          <dl className="scores">
            {Object.entries(prediction.scores).map(([label, score]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>
                  {/* A length in rem, not a share of the row: the bars of a result compare, and 1.0 is the full 8rem. */}
                  <span className="score-bar" style={{ width: `${(score * SCORE_BAR_REM).toFixed(2)}rem` }} aria-hidden="true" />
                  {score.toFixed(3)}
                </dd>
              </div>
            ))}
          </dl>
          <p className="small muted">
            {formatMs(run.gatewayMs)} in the gateway · {formatMs(run.roundTripMs)} round trip · tokenizer <code title={run.tokenizer}>{shortHash(run.tokenizer)}</code>
          </p>
        </>
      )}
      {tokenized && run && <TokenChips text={text} tokenized={tokenized} maxLength={run.maxLength} />}
    </article>
  );
}

export interface VersionTagsProps {
  version: CatalogVersionView;
}

/** A version's labels and pin, as chips. */
export function VersionTags({ version }: VersionTagsProps) {
  return (
    <>
      {version.labels.map((l) => (
        <span key={l} className="chip">
          {l}
        </span>
      ))}
      {version.pinned && <span className="chip chip-pinned">pinned</span>}
    </>
  );
}
