// @gateway/tailscale — the gateway on the tailnet (serve) or the internet (funnel), and who the tailnet says it is.
export { TailscaleConfigSection, type TailscaleMode } from "./config.js";
export { TailscaleCli, type TailscaleCliOptions } from "./tailscale-cli.js";
export { TailscaleError, type TailscaleErrorCode } from "./tailscale-error.js";
export {
  authRefusal,
  proxyTarget,
  type TailscaleExposeRequest,
  TailscaleExposure,
  type TailscaleExposureStatus,
} from "./tailscale-exposure.js";
export {
  createTailscaleWhois,
  isProxiedRequest,
  isTailnetAddress,
  type ProxiedRequest,
  type TailscaleIdentity,
  type TailscaleWhois,
  verifyTailscaleIdentity,
} from "./tailscale-identity.js";
export { parseTailscaleStatus, type ServedPort, servedPort, type TailnetSelf } from "./tailscale-status.js";
