import { useState } from 'react';

function fallbackCopy(text: string): boolean {
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  try { return document.execCommand('copy'); } catch { return false; } finally { ta.remove(); }
}

/** Copy text: the Clipboard API, else (file://, no permission) a selected textarea and execCommand. */
export async function copyText(text: string): Promise<boolean> {
  try { await navigator.clipboard.writeText(text); return true; } catch { return fallbackCopy(text); }
}

export function CopyButton({ text, testid }: { text: string; testid: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    await copyText(text);
    setDone(true);
    setTimeout(() => setDone(false), 1200);
  };
  return (
    <button type="button" className="copy" data-testid={testid} onClick={copy} aria-label={`copy ${text}`} title={`copy ${text}`}>
      {done ? 'copied' : 'copy'}
    </button>
  );
}
