/**
 * Reads the Kubernetes manifests of this folder as kustomize would list them, and checks each object
 * against the Kubernetes API's own schema twice over:
 * - kubernetes-models' validators (generated from the API's OpenAPI document): types, required
 *   fields, enumerations and formats;
 * - a round trip through the official client's model serializer, which keeps only the fields the API
 *   defines: whatever does not come back unchanged is a field Kubernetes does not know (a misspelt
 *   probe, a field at the wrong level), which the OpenAPI document alone lets pass.
 * The KurrentDB resource is the operator's own kind, outside both; it is checked against the fields
 * its documentation requires.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';

export const MANIFESTS_DIR = new URL('.', import.meta.url).pathname;

/** One object of a manifest file. */
export interface Manifest {
  readonly file: string;
  readonly object: { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, unknown>;
}

/** The parts of kustomization.yaml that the checks read. */
export interface Kustomization {
  readonly namespace: string;
  readonly resources: readonly string[];
  readonly configMapGenerator: readonly { name: string; literals: readonly string[] }[];
}

interface Kind {
  /** kubernetes-models' class: validates types, required fields and formats. */
  readonly model: new (data: never) => { validate(): void };
  /** The official client's model name: its serializer keeps the fields the API defines. */
  readonly clientType: string;
}

const KINDS: Record<string, Kind> = {
  'apps/v1 Deployment': { model: Deployment, clientType: 'V1Deployment' },
  'apps/v1 StatefulSet': { model: StatefulSet, clientType: 'V1StatefulSet' },
  'v1 Service': { model: Service, clientType: 'V1Service' },
  'v1 ConfigMap': { model: ConfigMap, clientType: 'V1ConfigMap' },
  'v1 Namespace': { model: Namespace, clientType: 'V1Namespace' },
  'v1 PersistentVolumeClaim': { model: PersistentVolumeClaim, clientType: 'V1PersistentVolumeClaim' },
  'policy/v1 PodDisruptionBudget': { model: PodDisruptionBudget, clientType: 'V1PodDisruptionBudget' },
};

const KURRENTDB = 'kubernetes.kurrent.io/v1 KurrentDB';

export const parseYaml = (text: string, file: string): unknown[] =>
  parseAllDocuments(text).map((document) => {
    const [error] = document.errors;
    if (error) throw new Error(`${file}: ${error.message}`);
    return document.toJS() as unknown;
  });

export function readKustomization(dir = MANIFESTS_DIR): Kustomization {
  const [kustomization] = parseYaml(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
    'kustomization.yaml',
  );
  return kustomization as Kustomization;
}

/** Every object of every resource file that kustomization.yaml lists, in order. */
export function readManifests(dir = MANIFESTS_DIR): Manifest[] {
  return readKustomization(dir).resources.flatMap((file) =>
    parseYaml(readFileSync(join(dir, file), 'utf8'), file)
      .filter((object) => object !== null)
      .map((object) => ({ file, object: object as Manifest['object'] })),
  );
}

/** What is wrong with one object, as `<file> <kind>/<name>: <problem>`; empty when nothing is. */
export function schemaProblems({ file, object }: Manifest): string[] {
  const key = `${object.apiVersion} ${object.kind}`;
  // Read from a file: the name may be missing, which the kind's schema reports.
  const name = (object.metadata as { name?: string } | undefined)?.name ?? '?';
  const where = `${file} ${object.kind}/${name}`;
  if (key === KURRENTDB) return kurrentDbProblems(object).map((problem) => `${where}: ${problem}`);
  const kind = KINDS[key];
  if (!kind) return [`${where}: ${key} is not a kind these manifests are checked for`];
  const problems: string[] = [];
  try {
    new kind.model(object as never).validate();
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  for (const path of unknownFields(object, kind.clientType)) problems.push(`${where}: unknown field ${path}`);
  return problems;
}

/** The paths of the fields that do not survive the client's typed round trip. */
function unknownFields(object: unknown, clientType: string): string[] {
  const typed: unknown = ObjectSerializer.deserialize(object, clientType, '');
  const back: unknown = JSON.parse(JSON.stringify(ObjectSerializer.serialize(typed, clientType, '')));
  return differences(object, back, '');
}

function differences(original: unknown, kept: unknown, path: string): string[] {
  if (isDeepStrictEqual(original, kept)) return [];
  if (Array.isArray(original) && Array.isArray(kept) && original.length === kept.length)
    return original.flatMap((item, index) => differences(item, kept[index], `${path}[${index}]`));
  if (isObject(original) && isObject(kept))
    return Object.keys(original).flatMap((field) =>
      field in kept
        ? differences(original[field], kept[field], `${path}.${field}`)
        : [`${path}.${field}`.slice(1)],
    );
  return [path.slice(1) || '(the whole object)'];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fields the KurrentDB operator's documentation requires of its resource (operator 1.x). */
function kurrentDbProblems(object: Record<string, unknown>): string[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const network = isObject(spec.network) ? spec.network : {};
  const storage = isObject(spec.storage) ? spec.storage : {};
  const problems: string[] = [];
  if (![1, 3, 5].includes(spec.replicas as number)) problems.push('spec.replicas must be 1, 3 or 5');
  if (typeof spec.image !== 'string' || spec.image === '') problems.push('spec.image is required');
  if (Object.keys(storage).length === 0) problems.push('spec.storage is required');
  // A volume claim's spec, as the operator documents it.
  for (const path of unknownFields(storage, 'V1PersistentVolumeClaimSpec'))
    problems.push(`unknown field spec.storage.${path}`);
  if (typeof network.domain !== 'string') problems.push('spec.network.domain is required');
  if (!isObject(network.loadBalancer) || typeof network.loadBalancer.enabled !== 'boolean')
    problems.push('spec.network.loadBalancer.enabled is required');
  for (const field of ['internodeTrafficStrategy', 'clientTrafficStrategy'])
    if (
      network[field] !== undefined &&
      !['ServiceName', 'FQDN', 'SplitDNS'].includes(network[field] as string)
    )
      problems.push(`spec.network.${field} must be ServiceName, FQDN or SplitDNS`);
  return problems;
}
