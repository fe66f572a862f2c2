/**
 * `sigil sbom SOURCE`: an SPDX 2.3 or CycloneDX 1.6 SBOM of a directory, an archive, an OCI image
 * (layout, `docker save` archive or registry) or a release directory. The SBOM goes to stdout or
 * to `--output-file` (written atomically); `--output json` prints a summary instead of text.
 */
import type { Command, Io, ParsedFlags } from '../command.js';
import { EXIT_OK } from '../command.js';
import { outputFlag } from '../options.js';
import { SigilError } from '../../core/errors.js';
import { DEFAULT_CATALOGERS } from '../../sbom/catalogers/index.js';
import { buildDocument, catalogTarget, type CatalogResult } from '../../sbom/scan.js';
import { openSource } from '../../sbom/sources/open.js';
import { NO_PROGRESS, type ProgressSink } from '../../sbom/sources/source.js';
import { SBOM_FORMATS, serializeSbom, writeSbomFile, type SbomFormat } from '../../sbom/writers/output.js';
import { hostPlatform } from '../../sbom/sources/platform.js';
import { sha256 } from '../../core/digest.js';
import { producerFlags, registryFlags, tagSchemeFlags } from '../oci-flags.js';
import type { AttachSbomResult } from '../../oci/sign-image.js';

/** SOURCE_DATE_EPOCH (reproducible-builds.org spec) or `--timestamp` (RFC 3339 or epoch seconds). */
export function sbomTimestamp(flag: string | undefined, env: NodeJS.ProcessEnv): Date {
  const raw = flag ?? env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return new Date(Math.floor(Date.now() / 1000) * 1000);
  const d = /^\d+$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
  if (Number.isNaN(d.getTime()) || d.getTime() < 0 || d.getUTCFullYear() > 9999) {
    throw new SigilError('USAGE', `invalid timestamp "${raw}"`, { hint: 'use seconds since the epoch or an RFC 3339 date' });
  }
  return d;
}

function str(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

function selectedCatalogers(flag: string | undefined): typeof DEFAULT_CATALOGERS {
  if (!flag) return DEFAULT_CATALOGERS;
  const names = flag.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(DEFAULT_CATALOGERS.map((c) => c.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new SigilError('USAGE', `unknown cataloger(s): ${unknown.join(', ')}`, { hint: `known: ${[...known].join(', ')}` });
  }
  return DEFAULT_CATALOGERS.filter((c) => names.includes(c.name) || c.name === 'os-release');
}

function registryTimeoutMs(flags: ParsedFlags): number {
  const t = Number(str(flags, 'registry-timeout') ?? '30');
  if (!Number.isFinite(t) || t <= 0) throw new SigilError('USAGE', '--registry-timeout must be a positive number of seconds');
  return t * 1000;
}

/** Registry host of a `registry:`/reference SOURCE, for --allow-insecure-registry. */
async function registryOf(source: string): Promise<string> {
  const { parseReference } = await import('../../oci/reference.js');
  try {
    return parseReference(source.replace(/^registry:/, '')).registry;
  } catch {
    return '';
  }
}

export interface SbomSummary {
  source: string;
  format: SbomFormat;
  outputFile?: string;
  sha256: string;
  packages: number;
  byKind: Record<string, number>;
  relationships: number;
  warnings: { path: string; message: string }[];
  attached?: { reference: string; referrer: string; tag?: string; attestation?: string };
}

/**
 * `--attach IMAGE`: hands the SBOM to the image commands' `attach sbom` (an OCI referrer and,
 * with the tag scheme, cosign's `.sbom` tag), attested when a key or keyless identity is given.
 */
async function attach(io: Io, flags: ParsedFlags, image: string, text: string, format: SbomFormat): Promise<AttachSbomResult> {
  // Loaded only when --attach is given: the registry client and the signing stack.
  const { parseImages, producerFromFlags, registryClient, tagSchemeMode, warnTag } = await import('../oci-common.js');
  const { attachSbom, resolveTargets } = await import('../../oci/sign-image.js');
  const { CYCLONEDX_JSON, SPDX_JSON } = await import('../../oci/media-types.js');
  const { SPDX_PREDICATE_TYPE } = await import('../../formats/spdx.js');
  const { CYCLONEDX_PREDICATE_TYPE } = await import('../../formats/cyclonedx.js');
  const images = parseImages([image]);
  const producer = str(flags, 'key') || flags.keyless === true ? await producerFromFlags(io, flags) : undefined;
  const client = registryClient(io, flags, images);
  try {
    const [t] = await resolveTargets(client, images[0]!, { onTag: warnTag(io) });
    return await attachSbom(client, t!, {
      sbom: Buffer.from(text),
      mediaType: format === 'spdx-json' ? SPDX_JSON : CYCLONEDX_JSON,
      predicateType: format === 'spdx-json' ? SPDX_PREDICATE_TYPE : CYCLONEDX_PREDICATE_TYPE,
      ...(producer ? { producer } : {}),
      tagScheme: tagSchemeMode(flags),
    });
  } finally {
    client.close();
  }
}

export const sbomCommand: Command = {
  path: ['sbom'],
  summary: 'generate an SBOM (SPDX 2.3 or CycloneDX 1.6 JSON) of a directory, archive, image or release',
  args: 'SOURCE',
  flags: {
    format: { type: 'string', description: 'spdx-json or cyclonedx-json', value: 'FORMAT', default: 'spdx-json' },
    'output-file': { type: 'string', description: 'write the SBOM to this file (default stdout)', value: 'FILE' },
    platform: { type: 'string', description: 'platform of a multi-arch image: os/arch[/variant] or "all"', value: 'P' },
    timestamp: { type: 'string', description: 'creation time (RFC 3339 or epoch seconds; default SOURCE_DATE_EPOCH, else now)', value: 'TIME' },
    catalogers: { type: 'string', description: 'comma-separated catalogers to run (default all)', value: 'LIST' },
    name: { type: 'string', description: 'document name (default: the source)', value: 'NAME' },
    progress: { type: 'boolean', description: 'show a progress bar on stderr even when it is not a terminal' },
    'full-walk': {
      type: 'boolean',
      description:
        "directories: walk node_modules and read every package.json (adds each npm package's author as supplier, description and homepage) instead of trusting npm's node_modules/.package-lock.json when npm would",
    },
    attach: { type: 'string', description: 'attach the SBOM to this image (OCI referrer; attested with --key or --keyless)', value: 'IMAGE' },
    ...producerFlags,
    ...tagSchemeFlags,
    ...registryFlags,
    ...outputFlag,
  },
  details: [
    'SOURCE: a directory, a tar/tar.gz/tar.zst archive, an OCI layout directory, a `docker save` archive,',
    'an image reference (registry:HOST/REPO:TAG), or a release directory (every archive, binary and image',
    'layout in it). Prefix with dir:, file:, oci-dir:, docker-archive:, registry: or release: to force the kind.',
  ].join('\n'),
  async run(flags, positionals, io: Io) {
    if (positionals.length !== 1) throw new SigilError('USAGE', 'sbom takes exactly one SOURCE', { hint: 'sigil sbom ./rootfs' });
    const source = positionals[0]!;
    const format = str(flags, 'format') as SbomFormat;
    if (!SBOM_FORMATS.includes(format)) {
      throw new SigilError('USAGE', `unknown --format "${format}"`, { hint: `use one of ${SBOM_FORMATS.join(', ')}` });
    }
    const outputFile = str(flags, 'output-file');
    const json = flags.output === 'json';
    if (json && !outputFile) throw new SigilError('USAGE', '--output json prints a summary; give --output-file for the SBOM');
    const created = sbomTimestamp(str(flags, 'timestamp'), io.env);
    const attachTo = str(flags, 'attach');
    // A bad reference fails before the scan, not after; the OCI code loads only for --attach.
    if (attachTo) (await import('../../oci/reference.js')).parseReference(attachTo);
    const catalogers = selectedCatalogers(str(flags, 'catalogers'));
    const stderrTty = (io.stderr as NodeJS.WriteStream).isTTY === true;
    const bar = flags.progress === true || stderrTty ? new (await import('../progress-bar.js')).ProgressBar(io.stderr) : undefined;
    const progress: ProgressSink = bar ?? NO_PROGRESS;
    const opened = await openSource(source, {
      platform: str(flags, 'platform') ?? hostPlatform(),
      fullWalk: flags['full-walk'] === true,
      registry: {
        env: io.env,
        timeoutMs: registryTimeoutMs(flags),
        insecureRegistries: flags['allow-insecure-registry'] === true ? [await registryOf(source)] : [],
      },
    });
    const results: CatalogResult[] = [];
    try {
      for (const t of opened.targets) {
        if (bar) bar.phase(t.info.name);
        results.push(await catalogTarget(t, { catalogers, progress }));
      }
    } finally {
      bar?.finish();
      opened.close();
    }
    const doc = buildDocument(results, { name: str(flags, 'name') ?? source, created });
    const text = await serializeSbom(doc, format);
    if (outputFile) await writeSbomFile(outputFile, text);
    else io.stdout.write(text);
    const attached = attachTo ? await attach(io, flags, attachTo, text, format) : undefined;
    const warnings = results.flatMap((r) => r.warnings);
    const byKind: Record<string, number> = {};
    for (const p of doc.packages) byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
    const summary: SbomSummary = {
      source,
      format,
      ...(outputFile ? { outputFile } : {}),
      sha256: sha256(text).toString('hex'),
      packages: doc.packages.length,
      byKind: Object.fromEntries(Object.entries(byKind).sort()),
      relationships: doc.relationships.length + doc.roots.length,
      warnings,
      ...(attached
        ? {
            attached: {
              reference: attached.reference,
              referrer: attached.referrer.digest,
              ...(attached.tag ? { tag: attached.tag.tag } : {}),
              ...(attached.attestation ? { attestation: attached.attestation.referrer.digest } : {}),
            },
          }
        : {}),
    };
    if (json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      for (const w of warnings) io.stderr.write(`warning: ${w.path}: ${w.message}\n`);
      const kinds = Object.entries(summary.byKind).map(([k, n]) => `${n} ${k}`).join(', ');
      io.stderr.write(`${summary.packages} packages (${kinds})${outputFile ? ` written to ${outputFile}` : ''}${warnings.length ? `, ${warnings.length} warning(s)` : ''}\n`);
      if (attached) {
        io.stderr.write(`attached to ${attached.reference} as referrer ${attached.referrer.digest}${attached.tag ? ` and ${attached.tag.tag}` : ''}\n`);
        if (attached.attestation) io.stderr.write(`attested: ${attached.attestation.referrer.digest}\n`);
        else io.stderr.write('warning: the attached SBOM is not signed; pass --key or --keyless to attest it\n');
      }
    }
    return EXIT_OK;
  },
};
