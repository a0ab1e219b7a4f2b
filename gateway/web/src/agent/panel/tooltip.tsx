import { useId, useState, type KeyboardEvent, type ReactNode } from 'react';

interface TooltipProps {
  /** What is shown; it becomes focusable and is described by the tip. */
  children: ReactNode;
  tip: ReactNode;
  className?: string;
}

/**
 * A value with a tooltip (role="tooltip", linked by aria-describedby) shown while the pointer
 * is over the value or the tip, or while the value has focus; Escape hides it (WCAG 1.4.13).
 * The tip is positioned by the nearest positioned ancestor (panel.css makes field rows and
 * section headers one) and spans its width, so it never widens a narrow screen.
 */
export function Tooltip({ children, tip, className }: TooltipProps) {
  const id = useId();
  const [hover, setHover] = useState(false);
  const [focus, setFocus] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const open = (hover || focus) && !dismissed;
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && open) {
      e.stopPropagation();
      setDismissed(true);
    }
  };
  return (
    <span
      className="cp-tip-anchor"
      onMouseEnter={() => {
        setHover(true);
        setDismissed(false);
      }}
      onMouseLeave={() => setHover(false)}
    >
      <span
        tabIndex={0}
        className={className ? `cp-tip-target ${className}` : 'cp-tip-target'}
        aria-describedby={id}
        onFocus={() => {
          setFocus(true);
          setDismissed(false);
        }}
        onBlur={() => setFocus(false)}
        onKeyDown={onKeyDown}
      >
        {children}
      </span>
      <span role="tooltip" id={id} className="cp-tip" hidden={!open}>
        {tip}
      </span>
    </span>
  );
}
