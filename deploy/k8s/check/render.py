"""render.py RENDERED.yaml OUT_DIR: the rendered overlay as OUT_DIR/docs.json
(for validate.mjs) and one TypeScript module per object typed with its
kubernetes-models interface (for tsc, which rejects unknown fields)."""
import json
import pathlib
import sys

import yaml

docs = [doc for doc in yaml.safe_load_all(open(sys.argv[1])) if doc]
out = pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
(out / "docs.json").write_text(json.dumps(docs))
for index, doc in enumerate(docs):
    kind, api = doc["kind"], doc["apiVersion"]
    (out / f"object{index}.ts").write_text(
        f'import {{ I{kind} }} from "kubernetes-models/{api}/{kind}";\n'
        f"export const object: I{kind} = {json.dumps(doc, indent=1)};\n")
