/**
 * The message log as ONE tab stop (a roving tabindex): Tab reaches the log,
 * the arrow keys move between its messages (MessageList), and the next Tab
 * leaves for the composer instead of visiting every button of every message.
 *
 * So the controls inside a message (its actions button, links, reactions,
 * players) are out of the tab order until that message has the focus; then
 * Tab walks through them. While a message has the focus, the log itself is out
 * of the tab order too, so that Shift+Tab leaves the list in one step. Dialogs
 * opened from a message (a recall confirmation) keep their own tab order.
 *
 *   <div role="log" tabindex="0" {@attach rovingLog}> … <article tabindex="-1"> … </article> … </div>
 */
import type { Attachment } from 'svelte/attachments';

const CONTROLS = 'a[href], button, input, select, textarea, audio[controls], video[controls], [tabindex]:not([tabindex="-1"])';
const MESSAGE = 'article[data-testid="message"]';
/** A control taken out of the tab order here (and given back when its message has the focus). */
const MARK = 'data-roving';

/** Takes the controls under `root` out of the tab order, except in the message that has the focus. */
function tame(root: Element): void {
  const controls = root.matches(CONTROLS) ? [root, ...root.querySelectorAll(CONTROLS)] : [...root.querySelectorAll(CONTROLS)];
  for (const control of controls) {
    const message = control.closest(MESSAGE);
    if (message === null || message.contains(document.activeElement) || control.closest('dialog') !== null) continue;
    control.setAttribute('tabindex', '-1');
    control.setAttribute(MARK, '');
  }
}

function release(message: Element): void {
  for (const control of message.querySelectorAll(`[${MARK}]`)) {
    control.removeAttribute('tabindex');
    control.removeAttribute(MARK);
  }
}

export const rovingLog: Attachment<HTMLElement> = (log) => {
  tame(log);
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) if (node instanceof Element) tame(node);
    }
    // The focused message scrolled out of the rendered window (the list is virtualised): the log is the tab stop again.
    if (log.tabIndex === -1 && !log.contains(document.activeElement)) log.tabIndex = 0;
  });
  observer.observe(log, { childList: true, subtree: true });

  const onfocusin = (event: FocusEvent): void => {
    const message = (event.target as Element).closest(MESSAGE);
    if (message === null) return;
    release(message);
    log.tabIndex = -1;
  };
  const onfocusout = (event: FocusEvent): void => {
    const message = (event.target as Element).closest(MESSAGE);
    const next = event.relatedTarget as Node | null;
    if (message !== null && (next === null || !message.contains(next))) tame(message);
    if (next === null || !log.contains(next)) log.tabIndex = 0;
  };
  log.addEventListener('focusin', onfocusin);
  log.addEventListener('focusout', onfocusout);
  return () => {
    observer.disconnect();
    log.removeEventListener('focusin', onfocusin);
    log.removeEventListener('focusout', onfocusout);
  };
};
