// The demo site's OpenID Connect provider (npm oidc-provider): client-credentials clients that
// stand for Unix users, RS256 JWT access tokens carrying preferred_username.
//
// usage: node oidc.mjs CONFIG.json
//   CONFIG: {issuer, port, audience, token_ttl, keys_file, clients: [{client_id, client_secret, username}]}
// The signing keys live in keys_file (a private JWKS). They are made once per site and kept;
// `node oidc.mjs CONFIG.json --rotate` puts a new key first (the one that signs) and keeps the
// previous one published, as a provider does when it rotates keys.
import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

function loadKeys() {
  if (fs.existsSync(config.keys_file)) return JSON.parse(fs.readFileSync(config.keys_file, 'utf8'));
  const jwks = { keys: [newKey()] };
  fs.writeFileSync(config.keys_file, JSON.stringify(jwks), { mode: 0o600 });
  return jwks;
}

if (process.argv.includes('--rotate')) {
  const jwks = loadKeys();
  jwks.keys = [newKey(), jwks.keys[0]];
  fs.writeFileSync(config.keys_file, JSON.stringify(jwks), { mode: 0o600 });
  console.log(`new signing key ${jwks.keys[0].kid}`);
  process.exit(0);
}

const usernames = new Map(config.clients.map((c) => [c.client_id, c.username]));
const ttl = config.token_ttl ?? 300;

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    // FirecREST clients post the secret in the form body.
    token_endpoint_auth_method: 'client_secret_post',
  })),
  jwks: loadKeys(),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        audience: config.audience,
        scope: 'openid firecrest',
        accessTokenFormat: 'jwt',
        accessTokenTTL: ttl,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) => {
    const username = usernames.get(token.clientId);
    return username ? { preferred_username: username } : undefined;
  },
  ttl: { ClientCredentials: ttl },
});
provider.proxy = true;
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc provider ${config.issuer} listening on 127.0.0.1:${config.port}`);
});
