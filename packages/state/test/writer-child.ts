// Writes numbered versions of one file forever (until killed): each version is a large JSON document whose body
// repeats its version number, so a torn file is detectable.
import { writeFileAtomic } from "@gateway/state";

const [path, mode] = process.argv.slice(2) as [string, string];
let version = 0;
for (;;) {
  version++;
  const body = JSON.stringify({ version, filler: String(version).repeat(40_000) });
  await writeFileAtomic(path, body);
  if (mode === "announce" && version === 1) process.stdout.write("FIRST\n");
}
