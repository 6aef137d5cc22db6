import { describe, expect, it } from 'vitest';
import { bridgeConfig, bridgeFile } from './bridge';

describe('bridgeConfig', () => {
  it('posts nothing from file:// unless asked', () => {
    expect(bridgeConfig('', 'null')).toEqual({ target: null, absolute: false });
    expect(bridgeConfig('?bridge-paths=absolute', 'null')).toEqual({ target: null, absolute: false });
  });
  it('defaults to its own origin when served over http(s)', () => {
    expect(bridgeConfig('', 'http://127.0.0.1:8000')).toEqual({ target: 'http://127.0.0.1:8000', absolute: false });
  });
  it('takes an explicit origin or * and the absolute-path opt-in', () => {
    expect(bridgeConfig('?bridge=https://ide.example', 'null')).toEqual({ target: 'https://ide.example', absolute: false });
    expect(bridgeConfig('?bridge=*&bridge-paths=absolute', 'null')).toEqual({ target: '*', absolute: true });
    expect(bridgeConfig('?bridge=%2A', 'null').target).toBe('*');
  });
  it('ignores what is not an http(s) origin', () => {
    for (const v of ['https://ide.example/', 'https://ide.example/path', 'javascript:alert(1)', 'file:///x', 'nope', 'null']) {
      expect(bridgeConfig(`?bridge=${encodeURIComponent(v)}`, 'null').target).toBeNull();
    }
  });
});

describe('bridgeFile', () => {
  it('keeps project files relative unless absolute paths were asked for', () => {
    expect(bridgeFile('pkg/a.py', '/work/p/', false)).toBe('pkg/a.py');
    expect(bridgeFile('pkg/a.py', '/work/p/', true)).toBe('/work/p/pkg/a.py');
  });
  it('never sends an absolute path in relative mode', () => {
    expect(bridgeFile('/work/p/pkg/a.py', '/work/p', false)).toBe('pkg/a.py');
    expect(bridgeFile('/usr/lib/x.py', '/work/p', false)).toBeNull();
    expect(bridgeFile('/work/pkg/a.py', '/work/p', false)).toBeNull();
    expect(bridgeFile('/usr/lib/x.py', '/work/p', true)).toBe('/usr/lib/x.py');
    expect(bridgeFile(null, '/work/p', true)).toBeNull();
  });
});
