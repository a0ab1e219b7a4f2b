import { useId } from 'react';
import { useModal } from './use-modal.js';

interface Props {
  title: string;
  body: string;
  confirm: string;
  onConfirm(): void;
  onCancel(): void;
}

export function ConfirmDialog({ title, body, confirm, onConfirm, onCancel }: Props) {
  const ref = useModal(onCancel);
  const id = useId();
  return (
    <dialog ref={ref} className="dialog" role="alertdialog" aria-labelledby={`${id}-t`} aria-describedby={`${id}-b`}>
      <h2 id={`${id}-t`}>{title}</h2>
      <p id={`${id}-b`}>{body}</p>
      <div className="dialog-buttons">
        <button type="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </dialog>
  );
}
