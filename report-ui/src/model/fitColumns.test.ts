import { describe, expect, it } from 'vitest';
import { columnsOf, wholeColumnsView } from './fitColumns';

// a focus view: callers' column 0..200 (right-aligned boxes), the module in focus 320..1100, callees 1220..1420
const callers = [{ left: 60, right: 200 }, { left: 0, right: 200 }];
const centre = { left: 320, right: 1100 };
const callees = [{ left: 1220, right: 1420 }, { left: 1220, right: 1380 }];

describe('columnsOf', () => {
  it('merges overlapping boxes into sorted columns', () => {
    expect(columnsOf([...callees, centre, ...callers])).toEqual([{ left: 0, right: 200 }, centre, { left: 1220, right: 1420 }]);
  });
});

describe('wholeColumnsView', () => {
  const cols = columnsOf([...callers, centre, ...callees]);
  it('starts at the callers when they fit with the node in focus', () => {
    // room 1200 px at zoom 0.9: callers + centre (990 px) fit; the callees' column (1098 px) crosses the
    // pane's edge (1216 px): zoom in until it starts just past the edge ((1216 + 4) / 1220)
    const v = wholeColumnsView(cols, centre, 0.9, 1200, 1216, 1.15);
    expect(v.left).toBe(0);
    expect(v.zoom).toBeCloseTo(1);
  });
  it('keeps the cut when zooming in would not fit the height', () => {
    const v = wholeColumnsView(cols, centre, 0.86, 1028, 1044, 0.86);
    expect(v).toEqual({ left: 0, zoom: 0.86 });
  });
  it('does not zoom when no column crosses the right edge', () => {
    // at zoom 0.86 the pane shows 0..1214: the callees' column (1220) is wholly right of it
    const v = wholeColumnsView(cols, centre, 0.86, 1028, 1044, 1.15);
    expect(v).toEqual({ left: 0, zoom: 0.86 });
  });
  it('drops the callers rather than cutting the node in focus when they do not fit together', () => {
    // room 900 px: callers + centre (1100) do not fit, the centre (780) does: it starts the view
    expect(wholeColumnsView(cols, centre, 1, 900, 916, 1.15).left).toBe(320);
  });
  it('shows the callers and the left part of a node in focus wider than the pane', () => {
    // the centre (780) never fits: the view starts at the callers while the centre starts in the left half of
    // the room (320 <= 350 at 700 px), else at the centre (320 > 300 at 600 px)
    expect(wholeColumnsView(cols, centre, 1, 700, 716, 1.15)).toEqual({ left: 0, zoom: 1 });
    expect(wholeColumnsView(cols, centre, 1, 600, 616, 1.15)).toEqual({ left: 320, zoom: 1 });
  });
  it('zooms in after the node in focus when it starts the view', () => {
    const wide = columnsOf([{ left: 0, right: 500 }, { left: 620, right: 1400 }, { left: 1520, right: 1700 }]);
    // room 1000: 0..1400 does not fit, the centre starts past half the room (620 > 500) but fits whole from 620;
    // the callees' column crosses the edge (620 + 1016 = 1636): zoomed until it starts there
    const v = wholeColumnsView(wide, { left: 620, right: 1400 }, 1, 1000, 1016, 1.15);
    expect(v.left).toBe(620);
    expect(v.zoom).toBeCloseTo(1020 / 900);
  });
  it('starts at the left without an anchor', () => {
    expect(wholeColumnsView(cols, null, 1, 600, 616, 1.15).left).toBe(0);
  });
  it('keeps callers of callers when the node in focus still fits', () => {
    const hop2 = columnsOf([{ left: -400, right: -200 }, ...callers, centre, ...callees]);
    expect(wholeColumnsView(hop2, centre, 1, 1600, 1616, 1.15).left).toBe(-400);
    expect(wholeColumnsView(hop2, centre, 1, 1200, 1216, 1.15).left).toBe(0);
  });
});
