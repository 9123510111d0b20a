/**
 * A popup that closes like people expect: a press outside it closes it
 * quietly, Escape closes it and gives focus back (`close(true)`). Listens only
 * while `isOpen()` is true; an attachment reruns when that state changes.
 * A press on one of `inside()` (the button of a popup moved elsewhere) is no
 * press outside.
 *
 *   <div {@attach dismissable(() => open, close)}> <button>…</button> {#if open}…{/if} </div>
 */
import type { Attachment } from 'svelte/attachments';

export function dismissable(
  isOpen: () => boolean,
  close: (refocus: boolean) => void,
  inside: () => readonly (Node | undefined)[] = () => [],
): Attachment<HTMLElement> {
  return (root) => {
    if (!isOpen()) return;
    const outside = (event: PointerEvent): void => {
      const target = event.target as Node;
      if (!root.contains(target) && !inside().some((node) => node?.contains(target) === true)) close(false);
    };
    const escape = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') close(true);
    };
    document.addEventListener('pointerdown', outside);
    window.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('pointerdown', outside);
      window.removeEventListener('keydown', escape);
    };
  };
}
