import { count } from './format';

export interface ProgressBarProps {
  /** Names the bar, e.g. `Progress of run #12`. */
  label: string;
  /** Records read so far. */
  value: number;
  /** Records expected in all, when the source can tell; without it the bar is indeterminate. */
  total?: number;
}

/** A run's progress: a filling bar when the total is known, a moving one with the count otherwise. */
export function ProgressBar({ label, value, total }: ProgressBarProps) {
  const known = total !== undefined && total > 0;
  const pct = known ? Math.min(100, Math.round((value / total) * 100)) : 0;
  const text = known ? `${count(value)} of ${count(total)} records (${pct}%)` : `${count(value)} records read`;
  return (
    <div className="progress">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={known ? 0 : undefined}
        aria-valuemax={known ? total : undefined}
        aria-valuenow={known ? value : undefined}
        aria-valuetext={text}
        className={known ? 'progress-track' : 'progress-track progress-indeterminate'}
      >
        <div className="progress-fill" style={known ? { width: `${pct}%` } : undefined} />
      </div>
      <span className="progress-text">{text}</span>
    </div>
  );
}
