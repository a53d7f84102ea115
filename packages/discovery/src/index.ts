// @gateway/discovery — gateways on the local network: advertise one (mDNS/DNS-SD), find them.
export { type Advertisement, type AdvertiseOptions, advertiseGateway, advertiseInterfaces } from "./advertiser.js";
export { type BrowseOptions, browseGateways, type DiscoveredGateway } from "./browser.js";
export { DiscoveryConfigSection } from "./config.js";
export {
  GATEWAY_SERVICE_TYPE,
  GATEWAY_TXT_KEYS,
  type GatewayTxtInput,
  gatewayTxt,
  normaliseFingerprint,
} from "./gateway-service.js";
