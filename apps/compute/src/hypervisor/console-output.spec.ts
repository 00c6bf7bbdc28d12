import { lastLines } from './console-output.js';

const LOG = 'SeaBIOS\r\nNimbus guest booted\r\nNimbus guest booted\r\n';

describe(lastLines.name, () => {
  it('returns everything when no length is asked', () => {
    expect(lastLines(LOG, false, undefined)).toBe(LOG);
  });

  it('returns the last N lines, keeping the final newline', () => {
    expect(lastLines(LOG, false, 1)).toBe('Nimbus guest booted\r\n');
    expect(lastLines(LOG, false, 2)).toBe('Nimbus guest booted\r\nNimbus guest booted\r\n');
    expect(lastLines(LOG, false, 99)).toBe(LOG);
    expect(lastLines(LOG, false, 0)).toBe('');
  });

  it('counts a last line without a newline as a line', () => {
    expect(lastLines('a\nb\nc', false, 2)).toBe('b\nc');
  });

  it('drops the partial first line of a tail cut at the byte limit', () => {
    expect(lastLines('ted\r\nNimbus guest booted\r\n', true, undefined)).toBe('Nimbus guest booted\r\n');
  });

  it('handles an empty log', () => {
    expect(lastLines('', false, undefined)).toBe('');
    expect(lastLines('', false, 3)).toBe('');
  });
});
