// A bundle of its own (dist/channel-whatsapp.js): the gateway imports it only when channels.whatsapp is configured,
// so a gateway without WhatsApp never loads Baileys. `plugin` is the name the restructured loader on main imports.
export { whatsappChannel, whatsappChannel as plugin } from "@gateway/channel-whatsapp";
