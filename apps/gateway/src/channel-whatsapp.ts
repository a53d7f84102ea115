// A bundle of its own (dist/channel-whatsapp.js): the gateway imports it only when channels.whatsapp is configured,
// so a gateway without WhatsApp never loads Baileys.
export { whatsappChannel as plugin } from "@gateway/channel-whatsapp";
