/** Object identifiers the X.509 layer reads, with the document that defines each. */

// RFC 5280 §4.2.1 certificate extensions
export const OID_SUBJECT_KEY_ID = '2.5.29.14';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_CERTIFICATE_POLICIES = '2.5.29.32';
export const OID_AUTHORITY_KEY_ID = '2.5.29.35';
export const OID_EXT_KEY_USAGE = '2.5.29.37';

// RFC 5280 §4.2.1.12 key purposes
export const OID_KP_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

// RFC 6962 §3.3: embedded SCT list; §3.1: precertificate poison
export const OID_CT_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
export const OID_CT_POISON = '1.3.6.1.4.1.11129.2.4.3';

// Fulcio (sigstore/fulcio docs/oid-info.md): otherName SAN for usernames
export const OID_FULCIO_OTHERNAME_SAN = '1.3.6.1.4.1.57264.1.7';

// Signature algorithms (RFC 5758 §3.2, RFC 4055, RFC 8410)
export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
export const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3';
export const OID_ECDSA_SHA512 = '1.2.840.10045.4.3.4';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_RSA_SHA256 = '1.2.840.113549.1.1.11';
export const OID_RSA_SHA384 = '1.2.840.113549.1.1.12';
export const OID_RSA_SHA512 = '1.2.840.113549.1.1.13';
export const OID_RSA_PSS = '1.2.840.113549.1.1.10';
export const OID_MGF1 = '1.2.840.113549.1.1.8';
export const OID_ED25519 = '1.3.101.112';

// Digest algorithms (RFC 5754 §2, NIST)
export const OID_SHA1 = '1.3.14.3.2.26';
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
export const OID_SHA512 = '2.16.840.1.101.3.4.2.3';

// CMS (RFC 5652) and RFC 3161 / ESS (RFC 2634, RFC 5035)
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_CT_TSTINFO = '1.2.840.113549.1.9.16.1.4';
export const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const OID_ATTR_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
export const OID_ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
