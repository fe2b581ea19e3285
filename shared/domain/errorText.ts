/** An error as one line for a page, a verdict or a log: its name and message (AccessDenied: …). */
export const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
