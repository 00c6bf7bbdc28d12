import { Prng } from './prng.js';

const draw = (prng: Prng, count: number): number[] => Array.from({ length: count }, () => prng.next());

describe(Prng.name, () => {
  it('gives the same numbers for the same seed', () => {
    expect(draw(new Prng(42), 100)).toEqual(draw(new Prng(42), 100));
  });

  it('gives different numbers for different seeds', () => {
    expect(draw(new Prng(1), 10)).not.toEqual(draw(new Prng(2), 10));
  });

  it("is mulberry32: the reference implementation's first outputs for seed 1", () => {
    // Computed with the published mulberry32 (Tommy Ettinger's constants) for seed 1.
    expect(draw(new Prng(1), 3).map((value) => Math.round(value * 4_294_967_296))).toEqual([
      2_693_262_067, 11_749_833, 2_265_367_787,
    ]);
  });

  it('keeps every float in [0, 1) and every int within its bounds', () => {
    const prng = new Prng(7);
    for (let i = 0; i < 10_000; i += 1) {
      const value = prng.next();
      expect(value >= 0 && value < 1).toBe(true);
      const whole = prng.int(3, 5);
      expect([3, 4, 5]).toContain(whole);
    }
  });

  it('picks by weight, never a key of weight zero', () => {
    const prng = new Prng(9);
    const seen = new Set(Array.from({ length: 1_000 }, () => prng.weighted({ a: 1, b: 3, never: 0 })));
    expect([...seen].sort()).toEqual(['a', 'b']);
  });
});
