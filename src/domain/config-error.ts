/** A configuration problem that must stop start-up; its message names the file (or variable) and the field. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
