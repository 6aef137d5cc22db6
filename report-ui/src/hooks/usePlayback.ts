// Playback loop and keyboard shortcuts.
import { useEffect, useRef } from 'react';
import { useData } from '../state/context';
import { clampPos, firstPos, lastPos, stepPos } from '../model/ranges';
import { nextReveal } from '../model/replay';

/** Events per second at 1×. */
export const BASE_RATE = 4;
export const SPEEDS = [1, 2, 4, 8, 16, 32, 64];

/** Replay controls over the allowed positions (window, selected scenarios): stepping skips the gaps. */
export function useReplayControls() {
  const { store, posRanges: rs, nodeReveal, g } = useData();
  return {
    /** Jump to the next step where a callable is seen for the first time (long runs). */
    nextNew: () => store.set((s) => {
      const p = nextReveal(g, nodeReveal, s.pos);
      return p === null ? {} : { pos: clampPos(rs, p), playing: false, selEvent: null };
    }),
    step: (d: number) => store.set((s) => ({ pos: stepPos(rs, s.pos, d), playing: false, selEvent: null })),
    seek: (p: number) => store.set({ pos: clampPos(rs, p), selEvent: null }),
    start: () => store.set({ pos: firstPos(rs), playing: false, selEvent: null }),
    end: () => store.set({ pos: lastPos(rs), playing: false, selEvent: null }),
    toggle: () => store.set((s) => {
      if (s.playing) return { playing: false };
      return { playing: true, pos: s.pos >= lastPos(rs) ? firstPos(rs) : clampPos(rs, s.pos), selEvent: null };
    }),
  };
}

export function usePlayback() {
  const { store, r, posRanges } = useData();
  const ranges = useRef(posRanges);
  ranges.current = posRanges;
  useEffect(() => {
    if (!r) return;
    let raf = 0, last = 0, acc = 0;
    const tick = (now: number) => {
      const s = store.get();
      if (!s.playing) { last = 0; acc = 0; raf = requestAnimationFrame(tick); return; }
      if (last) acc += ((now - last) / 1000) * BASE_RATE * s.speed;
      last = now;
      const whole = Math.floor(acc);
      if (whole > 0) {
        acc -= whole;
        const rs = ranges.current;
        const pos = stepPos(rs, s.pos, whole);
        store.set({ pos, playing: pos < lastPos(rs) });
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [store, r]);
}

export function useKeyboard() {
  const { store } = useData();
  const c = useReplayControls();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const onButton = t?.tagName === 'BUTTON' || t?.getAttribute('role') === 'slider';
      switch (e.key) {
        case ' ': if (onButton) return; c.toggle(); break;
        case 'ArrowLeft': if (t?.getAttribute('role') === 'slider') return; c.step(e.shiftKey ? -10 : -1); break;
        case 'ArrowRight': if (t?.getAttribute('role') === 'slider') return; c.step(e.shiftKey ? 10 : 1); break;
        case 'Home': c.start(); break;
        case 'n': c.nextNew(); break;
        case 'End': c.end(); break;
        case '/': store.set((s) => ({ searchFocus: s.searchFocus + 1 })); break;
        case 'f': store.set((s) => ({ fitRequest: s.fitRequest + 1, view: 'map' })); break;
        case 'Escape': store.set({ selNode: null, selEvent: null, selEdges: null }); break;
        default: return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
}
