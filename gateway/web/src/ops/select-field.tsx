import { useId } from 'react';

export interface SelectFieldProps {
  label: string;
  value: string;
  /** `[value, text]`; the empty value stands for "any". */
  options: readonly (readonly [string, string])[];
  onChange(value: string): void;
  disabled?: boolean;
}

/** A labelled select of a filter bar. */
export function SelectField({ label, value, options, onChange, disabled }: SelectFieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}
