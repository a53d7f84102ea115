// @gateway/pairing — who may talk to the agent (DM pairing, allowlists, mention gating) and who may connect
// (device identity, one store for device and node pairing, device tokens).
export { ChannelAccessConfig } from "./access-config.js";
export {
  type AccessDecision,
  type AccessPolicy,
  type AccessSubject,
  accessPolicy,
  decideAccess,
  isMention,
  senderIds,
  senderListed,
} from "./access-control.js";
export {
  buildDeviceAuthPayload,
  DEVICE_SIGNATURE_SKEW_MS,
  type DeviceAuthPayloadFields,
  type DeviceProof,
  type DeviceProofExpectation,
  type DeviceProofFailureCode,
  type DeviceProofResult,
  deviceIdFromPublicKey,
  normalizeDeviceMetadata,
  rawPublicKey,
  verifyDeviceProof,
  verifyDeviceSignature,
} from "./device-identity.js";
export {
  DEVICE_PAIRING_MAX_PENDING,
  DEVICE_PAIRING_TTL_MS,
  DeviceEntry,
  type DeviceRequestInput,
  type DeviceRevocationListener,
  DeviceStore,
  type DeviceStoreOptions,
  type IssuedDeviceToken,
  type NodeApproval,
  type NodeRequestInput,
  PairedDeviceRecord,
  type PairingReason,
  PendingDeviceRequest,
  PendingNodeRequest,
  scopesCover,
} from "./device-store.js";
export {
  DmPairingAccount,
  type DmPairingOutcome,
  DmPairingRequest,
  DmPairingStore,
  type DmPairingStoreOptions,
  newPairingCode,
  PAIRING_ALPHABET,
  PAIRING_CODE_LENGTH,
  PAIRING_PENDING_PER_ACCOUNT,
  PAIRING_TTL_MS,
} from "./dm-pairing-store.js";
export {
  FileRecordStorage,
  type FileRecordsShape,
  type RecordChange,
  type RecordListener,
  RecordMirror,
  type RecordStorage,
  type RemoteChangeListener,
  unchanged,
} from "./record-storage.js";
