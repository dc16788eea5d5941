// Log lines into the gateway's log and the plugin's log book, tagged with the
// plugin, its version and the event being handled.
import { log } from 'streamplug:plugin/log@0.1.0';

export const trace = (message) => log('trace', String(message));
export const debug = (message) => log('debug', String(message));
export const info = (message) => log('info', String(message));
export const warn = (message) => log('warn', String(message));
export const error = (message) => log('error', String(message));
