import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { formatMs, formatPercent, formatRate } from '../../../ui/format';
import { useElementWidth } from '../../../ui/use-element-width';
import { colorFor, type ChartRow, type MetricDef } from '../metrics-series';

export interface MetricChartProps {
  metric: MetricDef;
  rows: ChartRow[];
  /** Series names, v1, v2, …, one line each. */
  versions: string[];
  /** Range length in ms, to pick time ticks that read well. */
  spanMs: number;
  empty: boolean;
}

const HEIGHT = 220;

export function formatValue(kind: MetricDef['kind'], v: number | null): string {
  if (kind === 'ms') return formatMs(v);
  if (kind === 'fraction') return formatPercent(v);
  if (kind === 'rate') return formatRate(v);
  // Counts (batch size): as many decimals as the value has, up to two, so ticks at 0.25 and 0.75 read so.
  return v === null ? '—' : String(Number(v.toFixed(2)));
}

function tickTime(spanMs: number) {
  return (t: number) => {
    const d = new Date(t);
    if (spanMs > 36 * 3600_000) return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, '0')}h`;
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  };
}

interface DotProps {
  cx?: number;
  cy?: number;
  index?: number;
}

/**
 * A point with no neighbour draws no line segment, so a burst inside one bucket would be
 * invisible: such points get a dot. Points inside a line stay plain.
 */
function isolatedDot(rows: ChartRow[], key: string, color: string) {
  const at = (i: number) => (i >= 0 && i < rows.length ? rows[i][key] : null);
  const Dot = ({ cx, cy, index = 0 }: DotProps) => {
    const here = at(index);
    const alone = here !== null && here !== undefined && (at(index - 1) ?? null) === null && (at(index + 1) ?? null) === null;
    if (!alone || cx === undefined || cy === undefined) return <g key={`${key}-${index}`} />;
    return <circle key={`${key}-${index}`} cx={cx} cy={cy} r={3} fill={color} stroke={color} />;
  };
  return Dot;
}

/**
 * One metric, one line per version. The legend is plain HTML (names and colours), so it is
 * readable by screen readers and tests; animation is off so screenshots are stable.
 */
export function MetricChart({ metric, rows, versions, spanMs, empty }: MetricChartProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>(560);
  const headingId = `chart-${metric.key}-title`;
  return (
    <section className="card chart" data-testid={`chart-${metric.key}`} aria-labelledby={headingId}>
      <h2 id={headingId}>{metric.title}</h2>
      <ul className="legend" aria-label={`${metric.title} legend`}>
        {versions.map((v, i) => (
          <li key={v}>
            <span className="swatch" style={{ background: colorFor(i) }} aria-hidden="true" />
            {v}
          </li>
        ))}
      </ul>
      <div ref={ref} className="chart-area">
        {empty ? (
          <p className="empty">No data for this metric in the range.</p>
        ) : (
          // The accessibility layer makes the chart a tab stop (arrow keys walk its points), so it needs a name.
          <LineChart
            width={width}
            height={HEIGHT}
            data={rows}
            margin={{ top: 8, right: 12, bottom: 4, left: 4 }}
            accessibilityLayer
            aria-label={`${metric.title} chart, one line per version: ${versions.join(', ')}`}
            desc="Left and right arrow keys step through the points; the tooltip reads each one."
          >
            <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ea" />
            <XAxis dataKey="t" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={tickTime(spanMs)} minTickGap={24} />
            <YAxis width={64} domain={metric.kind === 'fraction' ? [0, 1] : [0, 'auto']} tickFormatter={(v: number) => formatValue(metric.kind, v)} />
            <Tooltip
              isAnimationActive={false}
              labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
              formatter={(v) => formatValue(metric.kind, typeof v === 'number' ? v : null)}
            />
            {versions.map((v, i) => (
              <Line
                key={v}
                type="monotone"
                dataKey={v}
                name={v}
                stroke={colorFor(i)}
                strokeWidth={2}
                dot={isolatedDot(rows, v, colorFor(i))}
                connectNulls={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        )}
      </div>
    </section>
  );
}
