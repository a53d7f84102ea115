// @gateway/pairing — who may talk to the agent (DM pairing, allowlists, mention gating) and, next, who may connect
// (device identity, device and node pairing, device tokens).
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
