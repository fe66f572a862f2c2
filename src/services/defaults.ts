/** Defaults shared by the services and the CLI, kept apart so reading them loads no service code. */
export const DEFAULT_STATE_DIR = '.sigil';
