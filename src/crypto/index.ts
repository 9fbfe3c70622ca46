export {
  AGE_MAGIC,
  decryptWithIdentities,
  encryptToRecipients,
  generateKeyPair,
  looksLikeAge,
  parseIdentities,
  parseRecipient,
  parseRecipients,
  readIdentityFile,
  recipientOf,
  type AgeIdentity,
  type AgeRecipient,
} from './age.js';
export { checkSealingHeader, isSealed, SealedSecretError, SecretSealer, SEALED_PREFIX, SEALING_SCHEME, type SealingHeader } from './sealed.js';
export { readReportText, writeEncryptedReport } from './report-file.js';
