/**
 * Checks rendered manifests read from stdin, as `kubectl kustomize deploy/kubernetes` prints them
 * (generated ConfigMaps, labels and namespace included): prints each object's problems, and exits 1
 * if there are any.
 */
import { readFileSync } from 'node:fs';

import { parseYaml, schemaProblems, type Manifest } from './manifests.js';

const objects = parseYaml(readFileSync(0, 'utf8'), 'stdin').filter((object) => object !== null);
const problems = objects.flatMap((object) =>
  schemaProblems({ file: 'stdin', object: object as Manifest['object'] }),
);
for (const problem of problems) console.error(problem);
console.log(`${objects.length} objects checked, ${problems.length} problems`);
process.exitCode = problems.length > 0 ? 1 : 0;
