// Validates dashboard JSON files against Grafana's dashboard schema.
//
// The schema is the `Dashboard` type of @grafana/schema (the package Grafana's frontend
// builds from its CUE schema; the version pinned in package.json is compose's Grafana),
// turned into JSON Schema by ts-json-schema-generator with additional properties allowed
// (panels carry plugin-specific options the core type does not list), then checked with
// ajv. Usage: node validate-dashboards.mjs FILE.json...; exit 0 when every file is valid,
// 1 with the errors otherwise.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import { createGenerator } from "ts-json-schema-generator";

const here = path.dirname(fileURLToPath(import.meta.url));
const types = path.join(
  here,
  "node_modules/@grafana/schema/dist/types/raw/dashboard/x/dashboard_types.gen.d.ts",
);
const schema = createGenerator({
  path: types,
  type: "Dashboard",
  additionalProperties: true,
  skipTypeCheck: true,
  expose: "export",
  topRef: true,
}).createSchema("Dashboard");
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

let invalid = 0;
for (const file of process.argv.slice(2)) {
  const dashboard = JSON.parse(fs.readFileSync(file, "utf8"));
  if (validate(dashboard)) {
    console.log(`${file}: valid`);
    continue;
  }
  invalid += 1;
  for (const error of validate.errors.slice(0, 20)) {
    console.log(`${file}: ${error.instancePath || "/"} ${error.message}`);
  }
}
process.exit(invalid ? 1 : 0);
