/**
 * RFC 3161 client (§3.4 over HTTP): asks a timestamp authority to countersign the signature bytes
 * and checks the answer before it goes into a bundle — status granted, the same message imprint,
 * the same nonce (so a replayed or substituted reply is caught, §2.4.2) — so a bundle never carries
 * a timestamp that a verifier would later reject for reasons the signer could have seen.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as cms from '@peculiar/asn1-cms';
import * as tsp from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { SigilError } from '../../core/errors.js';
import { postBytes } from './http-post.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';

function invalid(message: string): SigilError {
  return new SigilError('TIMESTAMP_INVALID', message, { kind: 'input', hint: 'the timestamp authority answered something unusable; check --timestamp-server-url' });
}

/** Requests a timestamp over SHA-256(data); returns the DER TimeStampResp (what Sigstore bundles carry). */
export async function requestTimestamp(tsaUrl: string, data: Uint8Array, timeoutMs = 30_000): Promise<Buffer> {
  const imprint = createHash('sha256').update(data).digest();
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0]! & 0x7f) | 0x01; // positive and minimal: no sign byte, no leading zero
  const req = new tsp.TimeStampReq({
    version: 1,
    messageImprint: new tsp.MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256 }), hashedMessage: new OctetString(imprint) }),
    nonce: nonce.buffer.slice(nonce.byteOffset, nonce.byteOffset + nonce.length) as ArrayBuffer,
    certReq: false,
  });
  const res = await postBytes(tsaUrl, Buffer.from(AsnConvert.serialize(req)), { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' }, timeoutMs, 'the timestamp authority');
  const body = res.body;
  if (res.status !== 200) throw new SigilError('NETWORK', `the timestamp authority answered HTTP ${res.status}: ${body.toString('utf8').slice(0, 200)}`);
  let resp: tsp.TimeStampResp;
  try {
    resp = AsnConvert.parse(body, tsp.TimeStampResp);
  } catch (e) {
    throw invalid(`the timestamp reply is not a DER TimeStampResp: ${(e as Error).message}`);
  }
  if (resp.status.status !== tsp.PKIStatus.granted && resp.status.status !== tsp.PKIStatus.grantedWithMods) {
    throw invalid(`the timestamp authority refused the request (status ${resp.status.status}${resp.status.statusString?.length ? `: ${resp.status.statusString.join(' ')}` : ''})`);
  }
  if (!resp.timeStampToken) throw invalid('the timestamp reply has status granted but no token');
  let info: tsp.TSTInfo;
  try {
    const sd = AsnConvert.parse(resp.timeStampToken.content, cms.SignedData);
    const eContent = sd.encapContentInfo.eContent?.single;
    if (!eContent) throw new Error('no encapsulated TSTInfo');
    info = AsnConvert.parse(eContent.buffer, tsp.TSTInfo);
  } catch (e) {
    throw invalid(`the timestamp token is malformed: ${(e as Error).message}`);
  }
  if (!Buffer.from(info.messageImprint.hashedMessage.buffer).equals(imprint)) throw invalid('the timestamp covers other data than the signature');
  if (!info.nonce || !Buffer.from(info.nonce).equals(nonce)) throw invalid('the timestamp reply does not carry the request nonce (replayed or substituted reply)');
  return body;
}
