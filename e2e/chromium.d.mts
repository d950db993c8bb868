// Types for chromium.mjs.
export function chromiumFlags(): string[];
