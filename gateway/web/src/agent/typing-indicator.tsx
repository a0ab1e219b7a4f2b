/** `<name> is typing…` while someone else in the conversation types; an empty live region otherwise. */
export function TypingIndicator({ names }: { names: readonly string[] }) {
  return (
    <p className="typing" aria-live="polite">
      {names.map((n) => `${n} is typing…`).join(' ')}
    </p>
  );
}
