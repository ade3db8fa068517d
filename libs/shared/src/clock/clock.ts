/** Time is injected everywhere a rule depends on it, so tests run grace windows in milliseconds. */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
