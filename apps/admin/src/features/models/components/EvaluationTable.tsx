import type { ModelView, SplitEvaluationView, VersionView } from '../../../api/types';
import { formatPercent, versionName } from '../../../ui/format';

export interface EvaluationTableProps {
  model: ModelView;
}

const SPLIT_NAMES: Record<string, string> = { test: 'whole messages', test_short: 'short texts' };

/** ECE is a distance between confidence and accuracy: two decimals of a fraction read better than a percent. */
function formatEce(ece: number | undefined): string {
  return ece === undefined ? '—' : ece.toFixed(3);
}

function recallText(split: SplitEvaluationView): string {
  const entries = Object.entries(split.recallByLabel ?? {});
  return entries.length === 0 ? '—' : entries.map(([label, r]) => `${label} ${formatPercent(r)}`).join(' · ');
}

/**
 * Each version's metrics per held-out split, as its servable.json records them:
 * a version can score well on whole e-mails and still fail on short texts, and a
 * single accuracy would hide that.
 */
export function EvaluationTable({ model }: EvaluationTableProps) {
  const rows = [...model.versions]
    .sort((a, b) => b.version - a.version)
    .flatMap((v: VersionView) => (v.evaluation?.splits ?? []).map((split) => ({ v, split })));
  if (rows.length === 0) return <p className="muted small">No version of {model.name} records an evaluation.</p>;
  return (
    <div className="table-wrap">
      <table aria-label={`Evaluation of ${model.name} per split`}>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Split</th>
            <th scope="col" className="num">
              Examples
            </th>
            <th scope="col" className="num">
              Accuracy
            </th>
            <th scope="col" className="num">
              F1
            </th>
            <th scope="col">Recall per label</th>
            <th scope="col" className="num" title="Expected calibration error: lower is better">
              ECE
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ v, split }) => (
            <tr key={`${v.version}-${split.split}`} data-testid={`evaluation-${model.name}-${v.version}-${split.split}`}>
              <th scope="row">{versionName(v.version)}</th>
              <td title={split.description}>
                {split.split}
                {SPLIT_NAMES[split.split] && <span className="muted small"> ({SPLIT_NAMES[split.split]})</span>}
              </td>
              <td className="num">{split.examples ?? '—'}</td>
              <td className="num">{formatPercent(split.accuracy)}</td>
              <td className="num">{split.f1 === undefined ? '—' : split.f1.toFixed(3)}</td>
              <td>{recallText(split)}</td>
              <td className="num">{formatEce(split.ece)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
