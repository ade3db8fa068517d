import { autoPauseAt, circuitView, HealthEvent, HealthRules, nextHealth, SubscriptionHealth } from './subscription-health';

const rules: HealthRules = {
  failingAfter: 3,
  autoPauseAfterMs: 5 * 86_400_000,
  circuitFailureThreshold: 5,
  circuitCooldownMs: 30_000,
  circuitMaxCooldownMs: 600_000,
};
const t0 = new Date('2026-12-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

function healthy(overrides: Partial<SubscriptionHealth> = {}): SubscriptionHealth {
  return {
    status: 'active',
    pausedReason: null,
    consecutiveFailures: 0,
    failingSince: null,
    circuitState: 'closed',
    circuitFailures: 0,
    circuitOpenCount: 0,
    circuitRetryAt: null,
    ...overrides,
  };
}

/** Applies events one after the other, each `stepMs` later. */
function run(events: HealthEvent[], from = healthy(), stepMs = 1_000) {
  let state = from;
  const transitions = events.map((event, i) => {
    const transition = nextHealth(state, event, at(i * stepMs), rules);
    state = transition.next;
    return transition;
  });
  return { state, transitions };
}

const timeout: HealthEvent = { type: 'failed', kind: 'timeout' };
const http500: HealthEvent = { type: 'failed', kind: 'http' };

describe('nextHealth', () => {
  it('becomes failing after WEBHOOK_FAILING_AFTER failures in a row and active again on a 2xx', () => {
    const { state } = run([http500, http500]);
    expect(state.status).toBe('active');
    const failing = nextHealth(state, http500, at(5_000), rules).next;
    expect(failing).toMatchObject({ status: 'failing', consecutiveFailures: 3, failingSince: t0 });
    expect(nextHealth(failing, { type: 'succeeded' }, at(6_000), rules).next).toMatchObject({ status: 'active', consecutiveFailures: 0, failingSince: null });
  });

  it('pauses automatically once failing for WEBHOOK_AUTO_PAUSE_AFTER, and asks to hold the waiting deliveries', () => {
    const failing = run([http500, http500, http500]).state;
    const before = nextHealth(failing, http500, at(rules.autoPauseAfterMs - 1), rules);
    expect(before.next.status).toBe('failing');
    const after = nextHealth(failing, http500, at(rules.autoPauseAfterMs), rules);
    expect(after.next).toMatchObject({ status: 'paused', pausedReason: 'auto' });
    expect(after.holdWaiting).toBe(true);
  });

  it('pauses at once on 410 Gone', () => {
    const { next, holdWaiting } = nextHealth(healthy(), { type: 'failed', kind: 'gone' }, t0, rules);
    expect(next).toMatchObject({ status: 'paused', pausedReason: 'gone' });
    expect(holdWaiting).toBe(true);
  });

  it('keeps a paused subscription paused on a success or a failure, without holding twice', () => {
    const paused = healthy({ status: 'paused', pausedReason: 'manual' });
    expect(nextHealth(paused, { type: 'succeeded' }, t0, rules).next.status).toBe('paused');
    const failed = nextHealth(paused, { type: 'failed', kind: 'gone' }, t0, rules);
    expect(failed.next).toMatchObject({ status: 'paused', pausedReason: 'manual' });
    expect(failed.holdWaiting).toBe(false);
  });

  it('opens the circuit after five timeouts or connection failures in a row', () => {
    const { state, transitions } = run([timeout, timeout, { type: 'failed', kind: 'connection' }, timeout, timeout]);
    expect(transitions.slice(0, 4).every((t) => !t.circuitChanged)).toBe(true);
    expect(transitions[4].circuitChanged).toBe(true);
    expect(state).toMatchObject({ circuitState: 'open', circuitOpenCount: 1, circuitRetryAt: at(4_000 + 30_000) });
  });

  it('does not count HTTP errors toward the circuit: an answer shows the endpoint is there', () => {
    const { state } = run([timeout, timeout, timeout, timeout, http500, timeout]);
    expect(state.circuitState).toBe('closed');
    expect(state.circuitFailures).toBe(1);
    expect(state.status).toBe('failing'); // but they do count toward failing
  });

  it('ignores failures of attempts that were in flight when the circuit opened', () => {
    const open = run([timeout, timeout, timeout, timeout, timeout]).state;
    const late = nextHealth(open, timeout, at(10_000), rules);
    expect(late.circuitChanged).toBe(false);
    expect(late.next.circuitRetryAt).toEqual(open.circuitRetryAt);
  });

  it('re-opens on a failed probe with a doubled cool-down, up to the maximum', () => {
    let state = run([timeout, timeout, timeout, timeout, timeout]).state;
    const cooldowns: number[] = [];
    for (let i = 0; i < 7; i++) {
      const probeAt = state.circuitRetryAt!;
      const { next, circuitChanged } = nextHealth(state, http500, probeAt, rules); // any failure re-opens
      expect(circuitChanged).toBe(true);
      cooldowns.push(next.circuitRetryAt!.getTime() - probeAt.getTime());
      state = next;
    }
    expect(cooldowns).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]);
  });

  it('closes the circuit on a successful probe and starts the next opening from the first cool-down', () => {
    const open = run([timeout, timeout, timeout, timeout, timeout]).state;
    const closed = nextHealth(open, { type: 'succeeded' }, open.circuitRetryAt!, rules);
    expect(closed.circuitChanged).toBe(true);
    expect(closed.next).toMatchObject({ circuitState: 'closed', circuitFailures: 0, circuitOpenCount: 0, circuitRetryAt: null, consecutiveFailures: 0 });
    const reopened = run([timeout, timeout, timeout, timeout, timeout], closed.next).state;
    expect(reopened.circuitRetryAt!.getTime()).toBe(at(4_000 + 30_000).getTime());
  });

  it('leaves health alone on our own (internal) errors', () => {
    const state = healthy({ consecutiveFailures: 2 });
    expect(nextHealth(state, { type: 'failed', kind: 'internal' }, t0, rules)).toEqual({ next: state, holdWaiting: false, circuitChanged: false });
  });

  it('pauses manually once, and resumes to a clean slate with the circuit closed', () => {
    const sick = run([timeout, timeout, timeout, timeout, timeout]).state;
    const paused = nextHealth(sick, { type: 'paused' }, t0, rules);
    expect(paused.next).toMatchObject({ status: 'paused', pausedReason: 'manual' });
    expect(paused.holdWaiting).toBe(true);
    expect(nextHealth(paused.next, { type: 'paused' }, t0, rules).holdWaiting).toBe(false);
    const resumed = nextHealth(paused.next, { type: 'resumed' }, t0, rules);
    expect(resumed.next).toEqual(healthy());
    expect(resumed.circuitChanged).toBe(true);
  });
});

describe('circuitView', () => {
  it('reads an open circuit past its retry time as half_open', () => {
    expect(circuitView({ circuitState: 'closed', circuitRetryAt: null }, t0)).toBe('closed');
    expect(circuitView({ circuitState: 'open', circuitRetryAt: at(1) }, t0)).toBe('open');
    expect(circuitView({ circuitState: 'open', circuitRetryAt: t0 }, t0)).toBe('half_open');
  });
});

describe('autoPauseAt', () => {
  it('is failing_since plus the auto-pause delay, and null when not failing or already paused', () => {
    expect(autoPauseAt({ status: 'failing', failingSince: t0 }, rules)).toEqual(at(rules.autoPauseAfterMs));
    expect(autoPauseAt({ status: 'active', failingSince: null }, rules)).toBeNull();
    expect(autoPauseAt({ status: 'paused', failingSince: t0 }, rules)).toBeNull();
  });
});
