/**
 * Validators for the official SBOM JSON schemas in the corpus: SPDX 2.3 (JSON Schema 2019-09)
 * and CycloneDX 1.6 (draft-07, with its $refs spdx.schema.json and jsf-0.82.schema.json).
 */
import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { corpusPath } from './paths.js';

type Validate = (doc: unknown) => string[];

function load(...p: string[]): Record<string, unknown> {
  return JSON.parse(readFileSync(corpusPath(...p), 'utf8')) as Record<string, unknown>;
}

function errorsOf(v: { errors?: { instancePath: string; message?: string }[] | null }): string[] {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

let spdx: Validate | undefined;
let cdx: Validate | undefined;

export function spdxValidator(): Validate {
  if (!spdx) {
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const v = ajv.compile(load('spdx', 'v2.3', 'spdx-schema.json'));
    spdx = (doc) => (v(doc) ? [] : errorsOf(v));
  }
  return spdx;
}

export function cyclonedxValidator(): Validate {
  if (!cdx) {
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // ajv-formats has no IRI formats; CycloneDX uses them for URLs and e-mail addresses.
    ajv.addFormat('iri-reference', /^\S*$/u);
    ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
    ajv.addSchema(load('cyclonedx', 'schema', 'spdx.schema.json'));
    ajv.addSchema(load('cyclonedx', 'schema', 'jsf-0.82.schema.json'));
    const v = ajv.compile(load('cyclonedx', 'schema', 'bom-1.6.schema.json'));
    cdx = (doc) => (v(doc) ? [] : errorsOf(v));
  }
  return cdx;
}
