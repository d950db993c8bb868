// A host app whose users sign in: its session cookie holds an HS256 JWT the
// mint verifies (`--identity session`), for the tests of signed-in users.
import { createHmac } from "node:crypto";

import type { MintSetup } from "./stack";

const SECRET = "e2e-session-secret-of-at-least-32-bytes!";
/** The host app's session cookie. */
export const COOKIE = "app_session";
/** The audience the host's provider puts in its session tokens, and in nothing else it signs. */
const AUDIENCE = "https://app.example/session";

/** The mint of such a host, with `extra` flags. */
export function sessionMint(extra: string[] = []): MintSetup {
  return {
    flags: ["--identity", "session", "--session-cookie", COOKIE, "--session-audience", AUDIENCE, ...extra],
    env: { RINGSIDE_MINT_SESSION_HS256_SECRET: SECRET },
  };
}

/** The host app's session JWT for `user`, valid for an hour. */
export function sessionToken(user: string): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: user, aud: AUDIENCE, iat: now - 5, nbf: now - 5, exp: now + 3600 })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}
