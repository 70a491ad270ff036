/**
 * Keyboard navigation through a list of links: ArrowDown and ArrowUp move focus (roving tabindex,
 * so Tab leaves the list in one step), Home and End jump, Enter follows the focused link natively.
 * ArrowUp on the first item hands focus back to where the list is driven from (the search box).
 */
import { useCallback, useRef, useState, type KeyboardEvent } from "react";

export function useListNavigation(count: number, onLeaveTop?: () => void) {
  const items = useRef<(HTMLElement | null)[]>([]);
  const [active, setActive] = useState(0);

  const focus = useCallback(
    (index: number) => {
      if (count === 0) return;
      const next = Math.max(0, Math.min(count - 1, index));
      setActive(next);
      items.current[next]?.focus();
    },
    [count],
  );

  const onKeyDown = (index: number, event: KeyboardEvent) => {
    let handled = true;
    if (event.key === "ArrowDown") focus(index + 1);
    else if (event.key === "ArrowUp") {
      if (index === 0 && onLeaveTop) onLeaveTop();
      else focus(index - 1);
    } else if (event.key === "Home") focus(0);
    else if (event.key === "End") focus(count - 1);
    else handled = false;
    if (handled) event.preventDefault();
  };

  const itemProps = (index: number) => ({
    ref: (element: HTMLElement | null) => {
      items.current[index] = element;
    },
    tabIndex: index === Math.min(active, count - 1) ? 0 : -1,
    onFocus: () => setActive(index),
    onKeyDown: (event: KeyboardEvent) => onKeyDown(index, event),
  });

  return { focus, itemProps, active };
}
