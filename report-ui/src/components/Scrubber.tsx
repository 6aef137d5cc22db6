// The scrubber: an activity histogram (calls per slice of the run) you can click and drag.
import { useEffect, useRef, useState } from 'react';
import { useData, useUI } from '../state/context';
import { useReplayControls } from '../hooks/usePlayback';

const NAMES = ['--scrub-bar', '--scrub-done', '--danger', '--scrub-reveal', '--scrub-shade', '--fg', '--lit', '--panel'] as const;
type Palette = Record<(typeof NAMES)[number], string>;

/** Theme colours read once (and again when the colour scheme flips): getComputedStyle forces a style recalc. */
function usePalette(el: React.RefObject<HTMLElement | null>): Palette | null {
  const [pal, setPal] = useState<Palette | null>(null);
  useEffect(() => {
    const read = () => {
      if (!el.current) return;
      const cs = getComputedStyle(el.current);
      setPal(Object.fromEntries(NAMES.map((n) => [n, cs.getPropertyValue(n).trim() || '#888'])) as Palette);
    };
    read();
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    mq.addEventListener('change', read);
    return () => mq.removeEventListener('change', read);
  }, [el]);
  return pal;
}

export function Scrubber() {
  const { r, activity, eventRanges, sel } = useData();
  const pos = useUI((s) => s.pos);
  const c = useReplayControls();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const count = r?.steps.count ?? 0;
  const pal = usePalette(canvas);
  useEffect(() => {
    const el = canvas.current?.parentElement;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(100, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    const cv = canvas.current;
    if (!cv || !pal) return;
    const h = 44, dpr = window.devicePixelRatio || 1;
    cv.width = width * dpr; cv.height = h * dpr;
    const ctx = cv.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, h);
    const bar = pal['--scrub-bar'], done = pal['--scrub-done'], exc = pal['--danger'], rev = pal['--scrub-reveal'];
    const shade = pal['--scrub-shade'];
    if (activity && count > 0) {
      const bw = width / activity.bins;
      const frac = pos / count;
      for (let b = 0; b < activity.bins; b++) {
        const v = activity.calls[b] / Math.max(1, activity.maxCalls);
        const bh = v > 0 ? Math.max(2, v * (h - 12)) : 0;
        ctx.fillStyle = (b + 0.5) / activity.bins <= frac ? done : bar;
        ctx.fillRect(b * bw, h - bh, Math.max(1, bw - (bw > 3 ? 1 : 0)), bh);
        if (activity.exceptions[b]) { ctx.fillStyle = exc; ctx.fillRect(b * bw, 0, Math.max(2, bw), 4); }
        if (activity.reveals[b]) { ctx.fillStyle = rev; ctx.fillRect(b * bw, 5, Math.max(2, bw), 3); }
      }
      if (eventRanges) {
        // shade what the window and the selected tests leave out; mark the selected tests' steps
        const x = (e: number) => (e / count) * width;
        ctx.fillStyle = shade;
        if (sel) { ctx.globalAlpha = 0.75; ctx.fillStyle = pal['--panel']; }
        let from = 0;
        for (const [a, b] of eventRanges) {
          if (a > from) ctx.fillRect(x(from), 0, x(a) - x(from), h);
          from = b + 1;
        }
        if (from < count) ctx.fillRect(x(from), 0, width - x(from), h);
        ctx.globalAlpha = 1;
        if (sel) {
          ctx.fillStyle = pal['--lit'];
          for (const [a, b] of eventRanges) ctx.fillRect(x(a), h - 3, Math.max(2, x(b + 1) - x(a)), 3);
        }
      }
      const x = Math.round(frac * width);
      ctx.fillStyle = pal['--fg'];
      ctx.fillRect(Math.min(width - 2, x - 1), 0, 2, h);
    }
  }, [activity, pos, count, width, eventRanges, sel, pal]);
  const seekAt = (clientX: number) => {
    const rect = canvas.current!.getBoundingClientRect();
    c.seek(Math.round(((clientX - rect.left) / rect.width) * count));
  };
  return (
    <div className="scrubber">
      <canvas ref={canvas} style={{ width: `${width}px`, height: '44px' }} data-testid="scrubber" role="slider" tabIndex={0}
        aria-label="replay position" aria-valuemin={0} aria-valuemax={count} aria-valuenow={pos}
        aria-valuetext={`step ${pos} of ${count}`} data-ranges={eventRanges ? eventRanges.map(([a, b]) => `${a}-${b}`).join(',') : ''}
        onPointerDown={(e) => { if (!count) return; e.currentTarget.setPointerCapture(e.pointerId); seekAt(e.clientX); }}
        onPointerMove={(e) => { if (e.buttons & 1 && count) seekAt(e.clientX); }}
        onKeyDown={(e) => {
          const big = Math.max(1, Math.round(count / 20));
          const d = { ArrowLeft: -1, ArrowRight: 1, PageDown: big, PageUp: -big }[e.key];
          if (d) { c.step(d); e.preventDefault(); e.stopPropagation(); }
        }} />
      <div className="scrub-legend"><span className="sw sw-calls" />calls <span className="sw sw-reveal" />first seen <span className="sw sw-exc" />exceptions
        {sel && <><span className="sw sw-lit" />selected tests (other steps are skipped)</>}</div>
    </div>
  );
}
