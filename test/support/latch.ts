/**
 * A one-shot gate for ordering a race without sleeping: work awaits `opened`, the test calls `open`
 * when the moment has come. Deterministic on a loaded machine, where a sleep is only a guess.
 */
export interface Latch<T = void> {
  open(value: T): void;
  opened: Promise<T>;
}

export function latch<T = void>(): Latch<T> {
  let open: (value: T) => void = () => undefined;
  const opened = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}
