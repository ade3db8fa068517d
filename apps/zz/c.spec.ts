it('one', () => { expect(1).toBe(1); });
