// Validates custom resources (the ServiceMonitor) against the Prometheus Operator's schema, which
// kubernetes-validate does not carry. Uses the npm package @kubernetes-models/prometheus-operator
// (models and validators generated from the operator's Go API types).
//   node validate_crds.mjs NODE_MODULES_DIR crds.json
// Known limit: these validators check types, required fields and enums, but do not reject unknown
// fields (the API server would prune them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, file] = process.argv.slice(2);
const objects = JSON.parse(readFileSync(file, "utf8"));
const packages = { "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" };
let failed = 0;
for (const obj of objects) {
  const [group, version] = obj.apiVersion.split("/");
  const what = `${obj.kind}/${obj.metadata?.name} (${obj.apiVersion})`;
  const pkg = packages[group];
  if (!pkg) {
    console.log(`    FAIL ${what}: no schema known for API group ${group}; add its models package to deploy/validate`);
    failed++;
    continue;
  }
  let Model;
  try {
    Model = (await import(pathToFileURL(join(nodeModules, pkg, group, version, `${obj.kind}.js`)).href))[obj.kind];
  } catch (e) {
    console.log(`    FAIL ${what}: ${pkg} has no model for it (${e.code ?? e.message})`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`    ok   ${what} against ${pkg}`);
  } catch (e) {
    console.log(`    FAIL ${what}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
