import { useId, type ReactNode } from 'react';
import a11y from '../../../styles/a11y.module.css';
import { CharCounter } from './CharCounter';
import styles from './Fields.module.css';

/** FieldControl is what a Field's input or textarea spreads on itself to be labelled and described. */
export interface FieldControl {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string;
}

export interface FieldProps {
  /** label is read by screen readers; the field itself shows what it is */
  label: string;
  /** counted is the text measured against limit (a title counts trimmed) */
  counted: string;
  limit: number;
  error?: string | undefined;
  /** children renders the control with the props it is given */
  children: (control: FieldControl) => ReactNode;
}

/**
 * Field is one post field of the composer and the editor: the control, then
 * a line with its error, if any, and its counter near the limit. Both
 * describe the control.
 */
export function Field({ label, counted, limit, error, children }: FieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const countId = `${id}-count`;
  return (
    <div className={styles.field}>
      <label htmlFor={id} className={a11y.srOnly}>
        {label}
      </label>
      {children({
        id,
        'aria-invalid': error ? true : undefined,
        'aria-describedby': error ? `${errorId} ${countId}` : countId,
      })}
      <div className={styles.meta}>
        {error ? (
          <span id={errorId} className={styles.error} role="alert">
            {error}
          </span>
        ) : (
          <span />
        )}
        <CharCounter id={countId} value={counted} limit={limit} />
      </div>
    </div>
  );
}
