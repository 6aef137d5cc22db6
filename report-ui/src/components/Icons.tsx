// Inline SVG icons (no icon font: the report must render offline with system fonts only).
const P: Record<string, string> = {
  start: 'M6 5h2v14H6zM20 5v14L9 12z',
  back: 'M18 5v14L7 12zM5 5h2v14H5z',
  play: 'M7 4.5v15L19.5 12z',
  pause: 'M6.5 5h4v14h-4zM13.5 5h4v14h-4z',
  forward: 'M6 5v14l11-7zM17 5h2v14h-2z',
  end: 'M4 5v14l11-7zM16 5h2v14h-2z',
};

export function Icon({ name }: { name: keyof typeof P | string }) {
  return (
    <svg width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" focusable="false" style={{ display: 'block', margin: 'auto' }}>
      <path d={P[name]} fill="currentColor" />
    </svg>
  );
}
