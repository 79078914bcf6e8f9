/**
 * SIGINT/SIGTERM handling for `wire run`: the first signal asks for a graceful drain, a second one
 * (the user insisting) asks to exit at once. Returns a function that removes the handlers, so a
 * finished run leaves the process's signal behaviour as it found it.
 */
export function onShutdownSignals(handlers: {
  readonly drain: (signal: NodeJS.Signals) => void;
  readonly abort: (signal: NodeJS.Signals) => void;
}): () => void {
  let received = 0;
  const listener = (signal: NodeJS.Signals): void => {
    received++;
    if (received === 1) handlers.drain(signal);
    else handlers.abort(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, listener);
  return () => {
    for (const s of signals) process.off(s, listener);
  };
}
