/** How an OCI image layout directory is recognized (image-spec image-layout.md), apart from reading one. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function isOciLayout(dir: string): boolean {
  return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
}
