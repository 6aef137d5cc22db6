import { describe, expect, it } from 'vitest';
import { creatorsOf } from './creations';
import type { VNode } from './levels';
import type { Creation } from '../types/snapshot';

const node = (over: Partial<VNode>): VNode => ({
  id: 'inst:shop.models.Item#1', kind: 'instance', label: 'Item#1', parent: 'mod:shop.models', module: 'shop.models',
  qualified_name: 'shop.models.Item', file: null, line: null, first_seen: 3, last_seen: 9, call_count: 1,
  internal: false, ...over,
});
const creations: Creation[] = [
  { creator: 'fn:app:main', module: 'shop.models', qualname: 'Item', count: 1, first_seen: 10, instances: [] },
  { creator: 'meth:shop.models.Service#1.build', module: 'shop.models', qualname: 'Item', count: 50, first_seen: 3,
    instances: ['inst:shop.models.Item#1'] },
  { creator: 'fn:app:main', module: 'shop.models', qualname: 'Cart', count: 2, first_seen: 2, instances: [] },
  { creator: 'fn:app:main', module: 'other', qualname: 'Item', count: 7, first_seen: 1, instances: [] },
];

describe('creatorsOf', () => {
  it('gives an instance its own creator and event', () => {
    const n = node({ created_by: { creator: 'meth:shop.models.Service#1.build', first_seen: 3 } });
    expect(creatorsOf({ creations }, n)).toEqual([{ creator: 'meth:shop.models.Service#1.build', count: 1, first_seen: 3 }]);
    expect(creatorsOf({ creations }, node({}))).toEqual([]);
  });
  it('gives an instance group the creators of its class in its module, who made most first', () => {
    const g = node({ id: 'group:shop.models.Item', kind: 'group', synthetic: 'group', class_name: 'Item' });
    expect(creatorsOf({ creations }, g)).toEqual([
      { creator: 'meth:shop.models.Service#1.build', count: 50, first_seen: 3 },
      { creator: 'fn:app:main', count: 1, first_seen: 10 },
    ]);
    expect(creatorsOf({}, g)).toEqual([]);
  });
  it('says nothing for other nodes', () => {
    expect(creatorsOf({ creations }, node({ kind: 'function', id: 'fn:app:main' }))).toEqual([]);
  });
});
