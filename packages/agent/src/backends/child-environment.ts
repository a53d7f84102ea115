/** Variables an agent CLI needs to run at all (its PATH, home, locale, terminal, temp dir), passed on by name. */
const PASSED_ON = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "TMPDIR",
  "TEMP",
  "TMP",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_CACHE_HOME",
  "XDG_STATE_HOME",
  "XDG_RUNTIME_DIR",
  "SYSTEMROOT",
  "COMSPEC",
  "PATHEXT",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
]);

/**
 * The environment of an agent CLI's process: the allowlisted basics of `parent` (locale `LC_*` included) plus what
 * the config gives that agent (`agents.defaults.cli.env`, where provider keys belong). Nothing else passes: not the
 * gateway's token, not a provider key the gateway happens to have, not the channels' tokens.
 */
export function childEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  configured: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && (PASSED_ON.has(name) || name.startsWith("LC_"))) environment[name] = value;
  }
  return { ...environment, ...configured };
}
