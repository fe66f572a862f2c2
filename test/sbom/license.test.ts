/** License normalization: SPDX expressions kept, dialects mapped, nothing invented, unknowns kept as LicenseRefs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { licenseFromClassifier, normalizeLicenses } from '../../src/sbom/license.js';
import { copyrightLicenses } from '../../src/sbom/catalogers/dpkg.js';

const norm = (...raws: string[]) => normalizeLicenses(raws)?.expression;

test('valid SPDX expressions are kept (deprecated GPL forms upgraded)', () => {
  assert.equal(norm('MIT'), 'MIT');
  assert.equal(norm('(MIT OR Apache-2.0)'), 'MIT OR Apache-2.0');
  assert.equal(norm('GPL-2.0+'), 'GPL-2.0-or-later');
  assert.equal(norm('LGPL-2.1'), 'LGPL-2.1-only');
  assert.equal(norm('Apache-2.0 WITH LLVM-exception'), 'Apache-2.0 WITH LLVM-exception');
  assert.equal(norm('MIT AND (BSD-2-Clause OR ISC)'), 'MIT AND (BSD-2-Clause OR ISC)');
});

test('Debian DEP-5 and RPM short names map to SPDX', () => {
  assert.equal(norm('GPL-2+'), 'GPL-2.0-or-later');
  assert.equal(norm('GPL-2'), 'GPL-2.0-only');
  assert.equal(norm('LGPL-2.1+'), 'LGPL-2.1-or-later');
  assert.equal(norm('Expat'), 'MIT');
  assert.equal(norm('BSD-3-clause'), 'BSD-3-Clause');
  assert.equal(norm('GPL-2+ or Artistic'), 'GPL-2.0-or-later OR Artistic-1.0-Perl');
  assert.equal(norm('ISC and/or LGPL-2.1+'), 'ISC OR LGPL-2.1-or-later');
  assert.equal(norm('GPL-3+ with Bison exception'), 'GPL-3.0-or-later WITH Bison-exception-2.2');
  assert.equal(norm('GPLv2+'), 'GPL-2.0-or-later');
  assert.equal(norm('mit'), 'MIT');
});

test('no version is invented; unknown names become LicenseRefs with their text', () => {
  assert.equal(norm('BSD'), 'LicenseRef-BSD');
  const r = normalizeLicenses(['public-domain', 'Some Custom License v1'])!;
  assert.equal(r.expression, 'LicenseRef-Some-Custom-License-v1 AND LicenseRef-public-domain');
  assert.deepEqual(
    r.refs.map((x) => [x.id, x.text]).sort(),
    [
      ['LicenseRef-Some-Custom-License-v1', 'Some Custom License v1'],
      ['LicenseRef-public-domain', 'public-domain'],
    ],
  );
  assert.equal(norm('UNKNOWN'), undefined);
  assert.equal(norm(''), undefined);
});

test('several fields combine with AND, compound parts parenthesized, duplicates dropped', () => {
  assert.equal(norm('MIT', 'MIT OR Apache-2.0', 'MIT'), 'MIT AND (MIT OR Apache-2.0)');
});

test('PyPI classifiers', () => {
  assert.equal(licenseFromClassifier('License :: OSI Approved :: MIT License'), 'MIT');
  assert.equal(licenseFromClassifier('License :: OSI Approved'), undefined);
  assert.equal(licenseFromClassifier('Programming Language :: Python'), undefined);
});

test('dpkg copyright: DEP-5 License fields, else common-licenses references', () => {
  const dep5 = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    '',
    'Files: *',
    'Copyright: 2000 Someone',
    'License: GPL-2+',
    '',
    'Files: lib/*',
    'License: Expat',
    '',
    'License: GPL-2+',
    ' On Debian systems, see /usr/share/common-licenses/GPL-2.',
  ].join('\n');
  assert.deepEqual(copyrightLicenses(dep5), ['Expat', 'GPL-2+']);
  assert.deepEqual(copyrightLicenses('free text\nsee /usr/share/common-licenses/LGPL-2.1 and /usr/share/common-licenses/GPL.\n'), ['GPL', 'LGPL-2.1']);
  assert.deepEqual(copyrightLicenses(''), []);
});
