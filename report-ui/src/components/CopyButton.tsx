import { useState } from 'react';

function fallbackCopy(text: string) {
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  try { document.execCommand('copy'); } finally { ta.remove(); }
}

export function CopyButton({ text, testid }: { text: string; testid: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try { await navigator.clipboard.writeText(text); } catch { fallbackCopy(text); }
    setDone(true);
    setTimeout(() => setDone(false), 1200);
  };
  return (
    <button type="button" className="copy" data-testid={testid} onClick={copy} aria-label={`copy ${text}`} title={`copy ${text}`}>
      {done ? 'copied' : 'copy'}
    </button>
  );
}
