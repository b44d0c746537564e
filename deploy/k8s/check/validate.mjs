// validate.mjs DOCS.json: each rendered object against the Kubernetes JSON
// schemas (types, enums, required fields, known kinds) of kubernetes-models.
// Misspelled fields are tsc's part (check.sh). Exits 1 naming each failure.
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failures = 0;
for (const doc of docs) {
  const what = `${doc.kind} ${doc.metadata?.name}`;
  try {
    const group = await import(`kubernetes-models/${doc.apiVersion}`);
    if (!group[doc.kind]) throw new Error(`no kind ${doc.kind} in ${doc.apiVersion}`);
    new group[doc.kind](doc).validate();
    console.log(`schema ok: ${what}`);
  } catch (error) {
    failures += 1;
    console.error(`schema FAILS: ${what}: ${error.message}`);
  }
}
process.exit(failures ? 1 : 0);
