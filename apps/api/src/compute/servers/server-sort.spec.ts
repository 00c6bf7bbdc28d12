import { Microversion } from '../../common/http/microversion.js';
import { DEFAULT_SORT, serverSortOf } from './server-sort.js';

const v21 = Microversion.parse('2.1')!;
const v273 = Microversion.parse('2.73')!;

describe("a server list's order", () => {
  it("is Nova's default without sort keys: newest first, the id breaking ties", () => {
    expect(serverSortOf({}, v21, false)).toEqual(DEFAULT_SORT);
  });

  it("reads the dashboard's three keys and directions, then ends with the defaults not named", () => {
    const query = {
      sort_key: ['created_at', 'display_name', 'uuid'],
      sort_dir: ['desc', 'desc', 'desc'],
    };
    expect(serverSortOf(query, v21, false)).toEqual([
      { column: 'created_at', descending: true },
      { column: 'name', descending: true },
      { column: 'id', descending: true },
    ]);
  });

  it('gives a key without a direction the first direction given, and the defaults the same', () => {
    expect(serverSortOf({ sort_key: ['display_name', 'vm_state'], sort_dir: 'asc' }, v21, false)).toEqual([
      { column: 'name', descending: false },
      { column: 'status', descending: false },
      { column: 'created_at', descending: false },
      { column: 'id', descending: false },
    ]);
  });

  it('drops the keys Nova disabled with their direction, and host for a member but not for an admin', () => {
    const query = { sort_key: ['vcpus', 'host', 'display_name'], sort_dir: ['asc', 'asc', 'desc'] };
    expect(serverSortOf(query, v21, false)[0]).toEqual({ column: 'name', descending: true });
    expect(serverSortOf(query, v21, true)[0]).toEqual({ column: 'host', descending: false });
  });

  it('takes locked as a key only from 2.73', () => {
    expect(() => serverSortOf({ sort_key: 'locked' }, v21, false)).not.toThrow();
    expect(() => serverSortOf({ sort_key: 'locked' }, v273, false)).not.toThrow();
    expect(() => serverSortOf({ sort_key: 'no_such_key' }, v273, false)).toThrow(
      'Invalid input for query parameters sort_key. Value: no_such_key.',
    );
  });

  it('refuses an unknown direction, and more directions than keys', () => {
    expect(() => serverSortOf({ sort_key: 'uuid', sort_dir: 'up' }, v21, false)).toThrow(
      'Invalid input for query parameters sort_dir. Value: up.',
    );
    expect(() => serverSortOf({ sort_key: 'uuid', sort_dir: ['asc', 'desc'] }, v21, false)).toThrow(
      'Sort direction size exceeds sort key size',
    );
  });
});
